import { useState, type FormEvent } from "react";

import { Code, ConnectError } from "@connectrpc/connect";

import type { Api } from "../api";
import { describeError } from "../api";
import type { LoginResponse } from "../gen/decnet/api/v1/auth_pb";

interface LoginFormProps {
  api: Api;
  // Message shown above the form, such as why the user is here again.
  notice: string;
  onLoggedIn: (res: LoginResponse) => void;
}

function loginErrorMessage(err: unknown): string {
  const connectErr = ConnectError.from(err);
  switch (connectErr.code) {
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return "Invalid user name or password.";
    case Code.ResourceExhausted:
      return "Too many login attempts. Wait a moment and try again.";
    case Code.Unavailable:
      return "The control plane is not reachable. Try again shortly.";
    default:
      return `Login failed: ${describeError(err)}`;
  }
}

export function LoginForm({ api, notice, onLoggedIn }: LoginFormProps) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      // The response also carries a bearer token for API clients. The
      // dashboard ignores it and relies on the HttpOnly cookie set with it.
      const res = await api.auth.login({ username, password });
      setPassword("");
      onLoggedIn(res.username === "" ? { ...res, username } : res);
    } catch (err) {
      setPassword("");
      setError(loginErrorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-form" onSubmit={(e) => void submit(e)}>
        <h1>DECNET</h1>
        {notice !== "" && <p className="notice">{notice}</p>}
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
        {error !== "" && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
    </main>
  );
}
