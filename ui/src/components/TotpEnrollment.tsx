import { useReducer, useState, type FormEvent } from "react";

import type { Api } from "../api";
import { isUnauthenticated } from "../api";
import { codeErrorMessage, enrollmentReducer, groupSecret, parseTotpCode } from "../totp";
import { CopyButton } from "./CopyButton";
import { QrCode } from "./QrCode";

interface TotpEnrollmentProps {
  api: Api;
  onConfirmed: () => void;
  onUnauthenticated: () => void;
  // Absent when enrollment is mandatory: there is nothing to go back to.
  onCancel?: () => void;
}

// Creates a TOTP key, shows it as text and QR code, and activates it with
// the first code the app shows. The key is shown only while this is open;
// the server does not return it again.
export function TotpEnrollment({ api, onConfirmed, onUnauthenticated, onCancel }: TotpEnrollmentProps) {
  const [state, dispatch] = useReducer(enrollmentReducer, { step: "start", error: "" });
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);

  const call = async (f: () => Promise<void>): Promise<void> => {
    setBusy(true);
    try {
      await f();
    } catch (err) {
      if (isUnauthenticated(err)) {
        onUnauthenticated();
        return;
      }
      dispatch({ type: "failed", error: codeErrorMessage(err) });
    } finally {
      setBusy(false);
    }
  };

  const begin = (): void => {
    void call(async () => {
      const res = await api.users.beginTotpEnrollment({});
      dispatch({ type: "begun", secret: res.secret, url: res.url });
    });
  };

  const confirm = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const parsed = parseTotpCode(code);
    if (!parsed.ok) {
      dispatch({ type: "failed", error: parsed.error });
      return;
    }
    void call(async () => {
      await api.users.confirmTotpEnrollment({ code: parsed.value });
      setCode("");
      dispatch({ type: "confirmed" });
      onConfirmed();
    });
  };

  if (state.step === "done") {
    return <p className="notice">Two-factor login is on. Each login now asks for a code.</p>;
  }

  if (state.step === "start") {
    return (
      <div className="totp-enroll">
        <p>
          Add DECNET to an authenticator app (any app that supports TOTP, RFC 6238). After that,
          every login asks for the 6-digit code the app shows.
        </p>
        {state.error !== "" && (
          <p className="error" role="alert">
            {state.error}
          </p>
        )}
        <button type="button" onClick={begin} disabled={busy}>
          {busy ? "Creating a key…" : "Set up authenticator"}
        </button>{" "}
        {onCancel !== undefined && (
          <button type="button" className="link" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    );
  }

  return (
    <div className="totp-enroll">
      <p className="notice">
        Scan the code with your authenticator app, or type the key into it. It is shown only now.
      </p>
      <div className="totp-key">
        <QrCode text={state.url} label="QR code of the authenticator key" />
        <div>
          <h3>Key</h3>
          <pre className="copyable" data-testid="totp-secret">
            {groupSecret(state.secret)}
          </pre>
          <CopyButton text={state.secret} label="Copy key" />
          <h3>Setup URL</h3>
          <pre className="copyable wrap" data-testid="totp-url">
            {state.url}
          </pre>
        </div>
      </div>
      <form className="inline-form" onSubmit={confirm} aria-label="Confirm authenticator">
        <label>
          Code from the app{" "}
          <input
            name="totp-confirm-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            maxLength={8}
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? "Checking…" : "Turn on"}
        </button>{" "}
        {onCancel !== undefined && (
          <button type="button" className="link" onClick={onCancel}>
            Cancel
          </button>
        )}
      </form>
      {state.error !== "" && (
        <p className="error" role="alert">
          {state.error}
        </p>
      )}
    </div>
  );
}
