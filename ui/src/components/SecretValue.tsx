import { useState } from "react";

import { formatSecret, toHex } from "../format";
import type { AuthAttempt } from "../gen/decnet/event/v1/event_pb";

// Secret of an authentication attempt, hidden until the analyst clicks.
// Captured passwords are attacker data, but some may be real passwords
// leaked elsewhere, so they stay hidden from anyone else who sees the screen.
export function SecretValue({ attempt }: { attempt: AuthAttempt }) {
  const [shown, setShown] = useState(false);
  const digest = toHex(attempt.secretSha256);

  if (!shown) {
    return (
      <button
        type="button"
        className="reveal"
        onClick={() => setShown(true)}
        title={digest === "" ? undefined : `SHA-256 ${digest}`}
      >
        show secret
      </button>
    );
  }

  return (
    <span className="secret">
      <code title={digest === "" ? undefined : `SHA-256 ${digest}`}>{formatSecret(attempt)}</code>
      <button type="button" className="reveal" onClick={() => setShown(false)}>
        hide
      </button>
    </span>
  );
}
