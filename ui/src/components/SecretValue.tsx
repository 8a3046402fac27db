import { useState } from "react";

import { maskedSecretText } from "../credential";
import { formatSecret, toHex } from "../format";
import type { AuthAttempt } from "../gen/decnet/event/v1/event_pb";

// Secret of an authentication attempt, hidden until the analyst clicks.
// Captured passwords are attacker data, but some may be real passwords
// leaked elsewhere, so they stay hidden from anyone else who sees the screen.
//
// masked is set when the viewer's role may not see secret values: the text
// maskedSecretText is shown instead, even where the server sent the value.
export function SecretValue({ attempt, masked }: { attempt: AuthAttempt; masked: boolean }) {
  const [shown, setShown] = useState(false);
  const digest = toHex(attempt.secretSha256);

  if (masked) {
    return (
      <span className="masked" title={digest === "" ? undefined : `SHA-256 ${digest}`}>
        {maskedSecretText}
      </span>
    );
  }

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
