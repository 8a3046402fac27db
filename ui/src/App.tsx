import { useCallback, useEffect, useMemo, useState } from "react";

import { createApi, describeError, type Api, isCanceled, isUnauthenticated } from "./api";
import { Dashboard } from "./components/Dashboard";
import { LoginForm } from "./components/LoginForm";
import { PasswordChangeForm } from "./components/PasswordChangeForm";
import { TotpEnrollment } from "./components/TotpEnrollment";
import { Role } from "./gen/decnet/api/v1/access_pb";
import { isTotpEnrollFirst } from "./totp";

interface Account {
  username: string;
  role: Role;
}

type Phase =
  | { name: "checking" }
  | { name: "unreachable"; error: string }
  | { name: "login"; notice: string }
  | { name: "change-password"; account: Account; reason: string }
  | { name: "totp-enrollment"; account: Account }
  | { name: "dashboard"; account: Account };

const firstLoginReason =
  "Your password was set by someone else. Choose your own before you continue.";

export function App() {
  // The API is served from the same origin as the dashboard.
  const api = useMemo(() => createApi(window.location.origin), []);
  const [phase, setPhase] = useState<Phase>({ name: "checking" });
  const [attempt, setAttempt] = useState(0);

  // The session cookie is HttpOnly, so the only way to learn whether it is
  // still valid, and whose it is, is to ask the server with it.
  const loadAccount = useCallback(
    async (signal?: AbortSignal): Promise<void> => {
      try {
        const res = await api.users.getCurrentUser({}, { signal });
        const user = res.user;
        const account = { username: user?.username ?? "", role: user?.role ?? Role.UNSPECIFIED };
        if (user?.passwordChangeRequired === true) {
          setPhase({ name: "change-password", account, reason: firstLoginReason });
          return;
        }
        if (user?.role === Role.ADMIN && !user.totpEnabled && (await mustEnrollTotp(api, signal))) {
          setPhase({ name: "totp-enrollment", account });
          return;
        }
        setPhase({ name: "dashboard", account });
      } catch (err) {
        if (signal?.aborted === true || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          setPhase({ name: "login", notice: "" });
          return;
        }
        setPhase({ name: "unreachable", error: describeError(err) });
      }
    },
    [api],
  );

  useEffect(() => {
    const abort = new AbortController();
    void loadAccount(abort.signal);
    return () => abort.abort();
  }, [loadAccount, attempt]);

  const handleUnauthenticated = useCallback(() => {
    setPhase({ name: "login", notice: "Your session has ended. Log in again." });
  }, []);

  const handleLogout = useCallback(async () => {
    try {
      await api.auth.logout({});
    } catch {
      // The session may already be gone; the login form is shown either way.
    }
    setPhase({ name: "login", notice: "Logged out." });
  }, [api]);

  switch (phase.name) {
    case "checking":
      return <div className="splash">Connecting to the control plane…</div>;
    case "unreachable":
      return (
        <div className="splash">
          <p>The control plane did not answer: {phase.error}</p>
          <button type="button" onClick={() => setAttempt((a) => a + 1)}>
            Try again
          </button>
        </div>
      );
    case "login":
      return (
        <LoginForm
          api={api}
          notice={phase.notice}
          onLoggedIn={(res) => {
            const account = { username: res.username, role: res.role };
            // The password comes first: ChangePassword is allowed to a
            // session that must still enroll, and the reload after it
            // finds the enrollment again.
            setPhase(
              res.passwordChangeRequired
                ? { name: "change-password", account, reason: firstLoginReason }
                : res.totpEnrollmentRequired
                  ? { name: "totp-enrollment", account }
                  : { name: "dashboard", account },
            );
          }}
        />
      );
    case "change-password":
      return (
        <PasswordChangeForm
          api={api}
          username={phase.account.username}
          reason={phase.reason}
          onChanged={() => void loadAccount()}
          onUnauthenticated={handleUnauthenticated}
          onLogout={() => void handleLogout()}
        />
      );
    case "totp-enrollment":
      return (
        <main className="login">
          <section className="login-form wide" aria-labelledby="totp-required-title">
            <h1 id="totp-required-title">Set up two-factor login</h1>
            <p className="notice">
              The operator requires every admin to log in with an authenticator app. Set it up for{" "}
              {phase.account.username} to continue; nothing else is available until then.
            </p>
            <TotpEnrollment
              api={api}
              onConfirmed={() => void loadAccount()}
              onUnauthenticated={handleUnauthenticated}
            />
            <button type="button" className="link" onClick={() => void handleLogout()}>
              Log out
            </button>
          </section>
        </main>
      );
    case "dashboard":
      return (
        <Dashboard
          api={api}
          username={phase.account.username}
          role={phase.account.role}
          onUnauthenticated={handleUnauthenticated}
          onLogout={() => void handleLogout()}
        />
      );
  }
}

// Reports whether the session may only enroll TOTP. GetCurrentUser does not
// return that, and a session restored from the cookie has no LoginResponse,
// so for an admin without TOTP a cheap admin call is made and its error
// checked.
async function mustEnrollTotp(api: Api, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await api.users.listUsers({}, { signal });
    return false;
  } catch (err) {
    if (isTotpEnrollFirst(err)) {
      return true;
    }
    if (signal?.aborted === true || isCanceled(err)) {
      throw err;
    }
    // Any other failure is left to the page that makes the call.
    return false;
  }
}
