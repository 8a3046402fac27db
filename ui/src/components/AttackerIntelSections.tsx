import { useState } from "react";

import { isCanceled, isUnauthenticated } from "../api";
import {
  exportChoices,
  exportFileName,
  identityOrNull,
  otherMembers,
  saveDocument,
  techniqueUrl,
  type ExportChoice,
  type ExportKind,
} from "../attack";
import { formatDateTime, shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { AttackTechnique } from "../gen/decnet/api/v1/attacker_service_pb";
import type { AttackerIdentity } from "../gen/decnet/api/v1/identity_service_pb";
import { routeHash } from "../nav";
import { useResource, useSession } from "../session";
import { ErrorNotice } from "./ErrorNotice";

export function TechniqueTable({ techniques }: { techniques: readonly AttackTechnique[] }) {
  if (techniques.length === 0) {
    return (
      <p className="empty" data-testid="techniques-empty">
        No technique matched yet.
      </p>
    );
  }
  return (
    <table className="techniques">
      <thead>
        <tr>
          <th>technique</th>
          <th>name</th>
          <th>tactic</th>
          <th>count</th>
          <th>first seen (UTC)</th>
          <th>last seen (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {techniques.map((t) => {
          const url = techniqueUrl(t.techniqueId);
          return (
            <tr key={t.techniqueId}>
              <td className="mono">
                {url === "" ? (
                  t.techniqueId
                ) : (
                  <a href={url} target="_blank" rel="noopener noreferrer">
                    {t.techniqueId}
                  </a>
                )}
              </td>
              <td>{t.name}</td>
              <td>{t.tactic}</td>
              <td>{t.count.toString()}</td>
              <td className="mono">{formatDateTime(t.firstSeen)}</td>
              <td className="mono">{formatDateTime(t.lastSeen)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

// identity is null when the attacker belongs to none yet.
export function IdentityBody({ identity, attackerId }: { identity: AttackerIdentity | null; attackerId: string }) {
  if (identity === null) {
    return (
      <p className="empty" data-testid="identity-empty">
        This attacker has no identity yet. Identities form within about ten seconds of new events,
        when their sessions are grouped with those of related attackers.
      </p>
    );
  }
  const others = otherMembers(identity.attackerIds, attackerId);
  return (
    <dl className="facts">
      <dt>identity</dt>
      <dd className="mono" data-testid="identity-id">
        {identity.id}
      </dd>
      <dt>created</dt>
      <dd className="mono">{formatDateTime(identity.created)} UTC</dd>
      <dt>sessions</dt>
      <dd>{identity.sessions}</dd>
      <dt>other attackers</dt>
      <dd>
        {others.length === 0
          ? "none"
          : others.map((other, i) => (
              <span key={other}>
                {i > 0 && ", "}
                <a className="mono" href={routeHash({ page: "attacker", id: other })} title={other}>
                  {shortId(other)}
                </a>
              </span>
            ))}
      </dd>
    </dl>
  );
}

// reloadKey changes when new events of the attacker arrive, which is also
// when an identity may have formed.
export function IdentityPanel({ attackerId, reloadKey }: { attackerId: string; reloadKey: string }) {
  const { role } = useSession();
  const identity = useResource(
    (api, signal) => identityOrNull(api.identities.getAttackerIdentity({ attackerId }, { signal })),
    [attackerId, reloadKey],
  );
  return (
    <section aria-labelledby="attacker-identity-title">
      <h2 id="attacker-identity-title">Identity</h2>
      <ErrorNotice error={identity.error} role={role} />
      {identity.data !== undefined && <IdentityBody identity={identity.data} attackerId={attackerId} />}
      {identity.data === null && (
        <button type="button" onClick={identity.reload} disabled={identity.loading}>
          Check again
        </button>
      )}
    </section>
  );
}

// ExportButtons downloads an attacker, identity or campaign as STIX 2.1 or
// MISP. Exporting takes the analyst role, so lesser roles see nothing.
export function ExportButtons({ kind = "attacker", id }: { kind?: ExportKind; id: string }) {
  const { api, role, onUnauthenticated } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  if (role < Role.ANALYST) {
    return null;
  }

  const download = async (choice: ExportChoice): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const format = choice.format;
      const res =
        kind === "identity"
          ? await api.identities.exportIdentity({ id, format })
          : kind === "campaign"
            ? await api.campaigns.exportCampaign({ id, format })
            : await api.attackers.exportAttacker({ id, format });
      saveDocument(res.document, res.contentType, exportFileName(id, choice, kind));
    } catch (err) {
      if (isUnauthenticated(err)) {
        onUnauthenticated();
      } else if (!isCanceled(err)) {
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="export" aria-label="Export">
      <span className="hint">Export:</span>{" "}
      {exportChoices.map((choice) => (
        <button key={choice.label} type="button" onClick={() => void download(choice)} disabled={busy}>
          {choice.label}
        </button>
      ))}
      <ErrorNotice error={error} role={role} />
    </div>
  );
}
