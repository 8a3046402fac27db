import { useState, type FormEvent } from "react";

import { CopyButton } from "../components/CopyButton";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { User } from "../gen/decnet/api/v1/user_service_pb";
import { assignableRoles, roleLabel } from "../nav";
import { useResource, useSession } from "../session";

// A password the server generated, shown until the admin dismisses it.
interface IssuedPassword {
  username: string;
  password: string;
  event: string;
}

type Pending = { action: "reset" | "delete" | "totp"; username: string } | undefined;

const pendingQuestion: Record<NonNullable<Pending>["action"], (username: string) => string> = {
  delete: (u) => `Delete ${u} and end their sessions?`,
  reset: (u) => `Replace the password of ${u} and end their sessions?`,
  totp: (u) => `Turn off two-factor login of ${u}, for a lost device, and end their sessions?`,
};

const pendingButton: Record<NonNullable<Pending>["action"], string> = {
  delete: "Delete",
  reset: "Reset password",
  totp: "Reset two-factor",
};

export function UsersPage() {
  const { api, role, username: self } = useSession();
  const users = useResource((a, signal) => a.users.listUsers({}, { signal }), []);
  const [newName, setNewName] = useState("");
  const [newRole, setNewRole] = useState<Role>(Role.VIEWER);
  const [issued, setIssued] = useState<IssuedPassword | undefined>(undefined);
  const [callError, setCallError] = useState<unknown>(undefined);
  const [pending, setPending] = useState<Pending>(undefined);
  const [busy, setBusy] = useState(false);

  // Runs one change, shows its error if any, and reloads the list.
  const run = async (change: () => Promise<void>): Promise<void> => {
    setCallError(undefined);
    setBusy(true);
    try {
      await change();
      setPending(undefined);
    } catch (err) {
      setCallError(err);
    } finally {
      setBusy(false);
      users.reload();
    }
  };

  const create = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const name = newName.trim();
    void run(async () => {
      const res = await api.users.createUser({ username: name, role: newRole });
      setIssued({ username: name, password: res.password, event: "created" });
      setNewName("");
    });
  };

  const setRole = (user: User, r: Role): void => {
    void run(async () => {
      await api.users.setUserRole({ username: user.username, role: r });
    });
  };

  const reset = (username: string): void => {
    void run(async () => {
      const res = await api.users.resetUserPassword({ username });
      setIssued({ username, password: res.password, event: "given a new password" });
    });
  };

  const resetTotp = (username: string): void => {
    void run(async () => {
      await api.users.resetUserTotp({ username });
    });
  };

  const remove = (username: string): void => {
    void run(async () => {
      await api.users.deleteUser({ username });
    });
  };

  const list = users.data?.users ?? [];

  return (
    <>
      <h1 tabIndex={-1}>Users</h1>
      <p className="hint">
        Viewers read everything with secret values hidden; analysts also see secrets and replay
        sessions; admins also manage users, sensors and tokens. New users and reset passwords get a
        generated password that must be changed at the next login. Resetting two-factor login is for a
        lost authenticator; the user can set it up again from their account page.
      </p>

      {issued !== undefined && (
        <section className="once" aria-labelledby="issued-title">
          <h2 id="issued-title">
            {issued.username} was {issued.event}
          </h2>
          <p className="notice">
            This password is shown only now. Hand it to {issued.username} over a safe channel; they
            must replace it when they log in.
          </p>
          <pre className="copyable" data-testid="issued-password">
            {issued.password}
          </pre>
          <CopyButton text={issued.password} label="Copy password" />{" "}
          <button type="button" onClick={() => setIssued(undefined)}>
            Done
          </button>
        </section>
      )}

      <form className="inline-form" onSubmit={create} aria-label="Create user">
        <label>
          User name{" "}
          <input
            name="new-username"
            required
            maxLength={64}
            pattern="[A-Za-z0-9._@\-]+"
            title='Letters, digits, ".", "_", "-" and "@"'
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
          />
        </label>
        <label>
          Role{" "}
          <select name="new-role" value={newRole} onChange={(e) => setNewRole(Number(e.target.value) as Role)}>
            {assignableRoles.map((r) => (
              <option key={r} value={r}>
                {roleLabel(r)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Create user
        </button>
      </form>

      <ErrorNotice error={callError} role={role} />
      <ErrorNotice error={users.error} role={role} />
      {users.data !== undefined && (
        <table className="users">
          <thead>
            <tr>
              <th>user</th>
              <th>role</th>
              <th>created (UTC)</th>
              <th>password</th>
              <th>two-factor</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((u) => (
              <tr key={u.username}>
                <td>
                  {u.username}
                  {u.username === self ? " (you)" : ""}
                </td>
                <td>
                  <select
                    aria-label={`Role of ${u.username}`}
                    value={u.role}
                    disabled={busy || u.username === self}
                    onChange={(e) => setRole(u, Number(e.target.value) as Role)}
                  >
                    {assignableRoles.map((r) => (
                      <option key={r} value={r}>
                        {roleLabel(r)}
                      </option>
                    ))}
                  </select>
                </td>
                <td className="mono">{formatDateTime(u.createdAt)}</td>
                <td>{u.passwordChangeRequired ? "must change at next login" : "set by the user"}</td>
                <td data-testid={`totp-${u.username}`}>{u.totpEnabled ? "on" : "off"}</td>
                <td>
                  {pending?.username === u.username ? (
                    <span className="confirm">
                      {pendingQuestion[pending.action](u.username)}{" "}
                      <button
                        type="button"
                        className="danger"
                        disabled={busy}
                        onClick={() =>
                          pending.action === "delete"
                            ? remove(u.username)
                            : pending.action === "totp"
                              ? resetTotp(u.username)
                              : reset(u.username)
                        }
                      >
                        {pendingButton[pending.action]}
                      </button>{" "}
                      <button type="button" className="link" onClick={() => setPending(undefined)} autoFocus>
                        Cancel
                      </button>
                    </span>
                  ) : (
                    u.username !== self && (
                      <>
                        <button type="button" onClick={() => setPending({ action: "reset", username: u.username })}>
                          Reset password…
                        </button>{" "}
                        {u.totpEnabled && (
                          <>
                            <button type="button" onClick={() => setPending({ action: "totp", username: u.username })}>
                              Reset two-factor…
                            </button>{" "}
                          </>
                        )}
                        <button type="button" onClick={() => setPending({ action: "delete", username: u.username })}>
                          Delete…
                        </button>
                      </>
                    )
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
