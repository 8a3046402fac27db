import { useState, type FormEvent } from "react";

import type { Api } from "../api";
import { describeError, isUnauthenticated } from "../api";
import { minPasswordLength, newPasswordProblem } from "../password";

interface PasswordChangeFormProps {
  api: Api;
  username: string;
  // Why the form is shown.
  reason: string;
  onChanged: () => void;
  onUnauthenticated: () => void;
  onLogout: () => void;
}

// The only screen a user with a password someone else chose may see, until
// they replace it.
export function PasswordChangeForm(props: PasswordChangeFormProps) {
  const { api, username, reason, onChanged, onUnauthenticated, onLogout } = props;
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    const problem = newPasswordProblem(current, next, repeat);
    if (problem !== "") {
      setError(problem);
      return;
    }
    setBusy(true);
    setError("");
    try {
      await api.users.changePassword({ currentPassword: current, newPassword: next });
      onChanged();
    } catch (err) {
      if (isUnauthenticated(err)) {
        onUnauthenticated();
        return;
      }
      // The server's words: it checks the current password and its own rules.
      setError(`The server refused the new password: ${describeError(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-form" onSubmit={(e) => void submit(e)} aria-label="Change password">
        <h1 className="plain">Choose a new password</h1>
        <p className="notice">{reason}</p>
        <input type="hidden" name="username" autoComplete="username" value={username} readOnly />
        <label>
          Current password
          <input
            name="current-password"
            type="password"
            autoComplete="current-password"
            autoFocus
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        </label>
        <label>
          New password (at least {minPasswordLength} characters)
          <input
            name="new-password"
            type="password"
            autoComplete="new-password"
            required
            minLength={minPasswordLength}
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        </label>
        <label>
          Repeat the new password
          <input
            name="repeat-password"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
        {error !== "" && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Changing…" : "Change password"}
        </button>
        <button type="button" className="link" onClick={onLogout}>
          Log out
        </button>
      </form>
    </main>
  );
}
