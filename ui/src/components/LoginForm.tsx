import { useEffect, useState, type FormEvent } from "react";

import type { Api } from "../api";
import type { LoginResponse } from "../gen/decnet/api/v1/auth_pb";
import { initialLogin, loginFailed, parseTotpCode, type LoginState } from "../totp";

interface LoginFormProps {
  api: Api;
  // Message shown above the form, such as why the user is here again.
  notice: string;
  onLoggedIn: (res: LoginResponse) => void;
}

export function LoginForm({ api, notice, onLoggedIn }: LoginFormProps) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [state, setState] = useState<LoginState>(initialLogin);
  const [busy, setBusy] = useState(false);
  const [ssoPath, setSsoPath] = useState("");

  // The server says whether it offers single sign-on. Without an answer
  // the page offers the password form only.
  useEffect(() => {
    const abort = new AbortController();
    api.auth
      .getLoginOptions({}, { signal: abort.signal })
      .then((res) => setSsoPath(res.singleSignOnPath))
      .catch(() => setSsoPath(""));
    return () => abort.abort();
  }, [api]);

  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    let totpCode = "";
    if (state.step === "code") {
      const parsed = parseTotpCode(code);
      if (!parsed.ok) {
        setState({ step: "code", error: parsed.error });
        return;
      }
      totpCode = parsed.value;
    }
    setBusy(true);
    setState((s) => ({ ...s, error: "" }));
    try {
      // The response also carries a bearer token for API clients. The
      // dashboard ignores it and relies on the HttpOnly cookie set with it.
      const res = await api.auth.login({ username, password, totpCode });
      setPassword("");
      setCode("");
      onLoggedIn(res.username === "" ? { ...res, username } : res);
    } catch (err) {
      const next = loginFailed(state, err);
      if (next.step === "password") {
        setPassword("");
      }
      setCode("");
      setState(next);
    } finally {
      setBusy(false);
    }
  };

  let submitLabel = state.step === "code" ? "Verify" : "Log in";
  if (busy) {
    submitLabel = "Logging in…";
  }

  const back = (): void => {
    setPassword("");
    setCode("");
    setState(initialLogin);
  };

  return (
    <main className="login">
      <form className="login-form" onSubmit={(e) => void submit(e)}>
        <h1>DECNET</h1>
        {notice !== "" && state.step === "password" && <p className="notice">{notice}</p>}
        {state.step === "password" ? (
          <>
            <label>
              User name
              <input
                name="username"
                autoComplete="username"
                autoFocus
                required
                value={username}
                onChange={(e) => setUsername(e.target.value)}
              />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
          </>
        ) : (
          <>
            <p className="notice">
              {username} has two-factor login on. Enter the code your authenticator app shows.
            </p>
            <label>
              Authentication code
              <input
                name="totp-code"
                inputMode="numeric"
                autoComplete="one-time-code"
                autoFocus
                required
                maxLength={8}
                value={code}
                onChange={(e) => setCode(e.target.value)}
              />
            </label>
          </>
        )}
        {state.error !== "" && (
          <p className="error" role="alert">
            {state.error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {state.step === "code" && (
          <button type="button" className="link" onClick={back}>
            Use another account
          </button>
        )}
        {state.step === "password" && <SingleSignOnLink path={ssoPath} />}
      </form>
    </main>
  );
}

// Link to the server's single sign-on, shown only for a local path so a
// bad answer cannot send the user to another site.
export function SingleSignOnLink({ path }: { path: string }) {
  if (!path.startsWith("/") || path.startsWith("//") || path.includes("\\")) {
    return null;
  }
  return (
    <p className="sso">
      <a className="button" href={path}>
        Sign in with single sign-on
      </a>
    </p>
  );
}
