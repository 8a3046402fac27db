import { useState } from "react";

import { credentialSecretText, maskedSecretText } from "../credential";
import { escapeControl, formatDateTime, outcomeLabel, shortId, toHex } from "../format";
import type { Credential } from "../gen/decnet/api/v1/credential_service_pb";
import { routeHash } from "../nav";

interface CredentialTableProps {
  credentials: readonly Credential[];
  showAttacker: boolean;
  empty: string;
}

export function CredentialTable({ credentials, showAttacker, empty }: CredentialTableProps) {
  if (credentials.length === 0) {
    return <p className="empty">{empty}</p>;
  }
  return (
    <table className="credentials">
      <thead>
        <tr>
          <th>time (UTC)</th>
          <th>service</th>
          <th>decky</th>
          <th>source</th>
          {showAttacker && <th>attacker</th>}
          <th>principal</th>
          <th>mechanism</th>
          <th>outcome</th>
          <th>secret</th>
        </tr>
      </thead>
      <tbody>
        {credentials.map((c) => (
          <tr key={c.eventId}>
            <td className="mono">{formatDateTime(c.time)}</td>
            <td>{escapeControl(c.service)}</td>
            <td>{escapeControl(c.decky)}</td>
            <td className="mono">{c.sourceAddress}</td>
            {showAttacker && (
              <td className="mono">
                <a href={routeHash({ page: "attacker", id: c.attackerId })} title={c.attackerId}>
                  {shortId(c.attackerId)}
                </a>
              </td>
            )}
            <td className="principal">{escapeControl(c.principal) || "(none)"}</td>
            <td className="mono">{escapeControl(c.mechanism)}</td>
            <td className={`outcome outcome-${outcomeLabel(c.outcome)}`}>{outcomeLabel(c.outcome)}</td>
            <td>
              <CredentialSecret credential={c} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

// Secret of a credential, hidden until the analyst clicks to reveal it. For
// a role that may not see it, the server sends none and the cell shows
// maskedSecretText.
export function CredentialSecret({ credential }: { credential: Credential }) {
  const [shown, setShown] = useState(false);
  const digest = toHex(credential.secretSha256);
  const digestTitle = digest === "" ? undefined : `SHA-256 ${digest}`;

  if (credential.secretMasked) {
    return (
      <span className="masked" title={digestTitle}>
        {maskedSecretText}
      </span>
    );
  }
  if (!shown) {
    return (
      <button type="button" className="reveal" onClick={() => setShown(true)} title={digestTitle}>
        show secret
      </button>
    );
  }
  return (
    <span className="secret">
      <code title={digestTitle}>{credentialSecretText(credential)}</code>
      <button type="button" className="reveal" onClick={() => setShown(false)}>
        hide
      </button>
    </span>
  );
}
