import { describeError, isPermissionDenied } from "../api";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { roleLabel } from "../nav";
import { isTotpEnrollFirst } from "../totp";

// Explains a failed call. A permission_denied error means the caller's role
// is too low, which no retry fixes, so the message names the role.
export function ErrorNotice({ error, role }: { error: unknown; role: Role }) {
  if (error === undefined || error === null) {
    return null;
  }
  // The operator began to require TOTP for admins during this session: no
  // role change helps, only enrollment, which the login screen offers.
  if (isTotpEnrollFirst(error)) {
    return (
      <p className="error" role="alert">
        Two-factor login is now required for admins. Reload the page to set it up.
      </p>
    );
  }
  if (isPermissionDenied(error)) {
    return <PermissionNotice role={role} />;
  }
  return (
    <p className="error" role="alert">
      {describeError(error)}
    </p>
  );
}

// Notice shown when the server rejects a call for the caller's role, and for
// pages the navigation rules already close to that role.
export function PermissionNotice({ role, needed }: { role: Role; needed?: Role }) {
  return (
    <div className="notice permission" role="alert">
      <strong>Not allowed for your role.</strong> You are signed in as{" "}
      {role === Role.UNSPECIFIED ? "a user whose role is unknown" : withArticle(roleLabel(role))}
      {needed === undefined ? ", and the server refused this request" : `; this needs the ${roleLabel(needed)} role`}
      . Ask an admin to change your role if you need it.
    </div>
  );
}

function withArticle(noun: string): string {
  return /^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`;
}
