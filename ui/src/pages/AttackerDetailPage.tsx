import { useMemo } from "react";

import { AnnotationsPanel } from "../components/AnnotationsPanel";
import { BehaviourSection, TraversalSection } from "../components/AttackerBehaviour";
import { ExportButtons, IdentityPanel, TechniqueTable } from "../components/AttackerIntelSections";
import { CredentialTable } from "../components/CredentialTable";
import { ErrorNotice } from "../components/ErrorNotice";
import { FingerprintSection } from "../components/FingerprintTable";
import { EventFeed } from "../components/EventFeed";
import { IntelPanel } from "../components/IntelPanel";
import { mergeEvents } from "../feed";
import { formatBytes, formatDateTime, formatDuration, shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { routeHash } from "../nav";
import { useResource, useSession, useThrottled } from "../session";
import type { EventStreamState } from "../useEventStream";

const listPageSize = 200;

// Reloads triggered by live events happen at most this often.
const reloadThrottleMs = 1000;

export function AttackerDetailPage({
  id,
  stream,
  identityVersion,
}: {
  id: string;
  stream: EventStreamState;
  // Moves when an identity.* notice arrives.
  identityVersion: number;
}) {
  const { role } = useSession();

  // Live events of this attacker. A new newest one reloads the parts of the
  // page that the stream does not carry (counters, credentials,
  // recordings). The newest id, not the count, is the key: the feed is
  // capped, so its count stops growing.
  const live = useMemo(() => stream.events.filter((s) => s.attackerId === id), [stream.events, id]);
  const newest = useThrottled(live[0]?.event?.id ?? "", reloadThrottleMs);

  const attacker = useResource(
    (api, signal) => api.attackers.getAttacker({ id }, { signal }),
    [id, newest],
  );
  const credentials = useResource(
    (api, signal) =>
      api.credentials.listCredentials({ attackerId: id, pageSize: listPageSize }, { signal }),
    [id, newest],
  );
  const recordings = useResource(
    (api, signal) =>
      api.sessions.listSessionRecordings({ attackerId: id, pageSize: listPageSize }, { signal }),
    [id, newest],
  );
  const history = useResource(
    (api, signal) =>
      api.events.listEvents({ filter: { attackerId: id }, pageSize: listPageSize }, { signal }),
    [id],
  );
  const events = useMemo(
    () => mergeEvents(history.data?.events ?? [], live),
    [history.data, live],
  );

  const a = attacker.data?.attacker;
  const canReplay = role >= Role.ANALYST;

  return (
    <>
      <p className="breadcrumb">
        <a href={routeHash({ page: "attackers" })}>Attackers</a> /
      </p>
      <h1 tabIndex={-1} title={id}>
        Attacker {shortId(id)}
      </h1>
      <ExportButtons id={id} />
      <ErrorNotice error={attacker.error} role={role} />
      {a !== undefined && (
        <dl className="facts">
          <dt>id</dt>
          <dd className="mono">{a.id}</dd>
          <dt>addresses</dt>
          <dd className="mono" data-testid="attacker-addresses">
            {a.addresses.join(", ")}
          </dd>
          <dt>services</dt>
          <dd>{a.services.join(", ") || "none"}</dd>
          <dt>deckies</dt>
          <dd>{a.deckies.join(", ") || "none"}</dd>
          <dt>first seen</dt>
          <dd className="mono">{formatDateTime(a.firstSeen)} UTC</dd>
          <dt>last seen</dt>
          <dd className="mono">{formatDateTime(a.lastSeen)} UTC</dd>
          <dt>events</dt>
          <dd>
            {a.eventCount.toString()} ({a.authAttemptCount.toString()} login attempts)
          </dd>
        </dl>
      )}

      <BehaviourSection behaviour={a?.behaviour} />
      <TraversalSection visits={a?.traversal} />

      {/* The keys reset a panel's state when the attacker changes; React
          needs them distinct among siblings, or it keeps stale copies. */}
      <AnnotationsPanel key={`annotations-${id}`} attackerId={id} />

      <section aria-labelledby="attacker-techniques-title">
        <h2 id="attacker-techniques-title">ATT&amp;CK techniques</h2>
        {a !== undefined && <TechniqueTable techniques={a.techniques} />}
      </section>

      <IdentityPanel attackerId={id} reloadKey={`${newest}:${identityVersion}`} />

      <FingerprintSection attackerId={id} reloadKey={newest} />

      <IntelPanel key={`intel-${id}`} attackerId={id} />

      <section aria-labelledby="attacker-credentials-title">
        <h2 id="attacker-credentials-title">Credentials</h2>
        <ErrorNotice error={credentials.error} role={role} />
        {credentials.data !== undefined && (
          <CredentialTable
            credentials={credentials.data.credentials}
            showAttacker={false}
            empty="This attacker has not tried to log in yet."
          />
        )}
      </section>

      <section aria-labelledby="attacker-recordings-title">
        <h2 id="attacker-recordings-title">Session recordings</h2>
        <ErrorNotice error={recordings.error} role={role} />
        {recordings.data !== undefined && recordings.data.recordings.length === 0 && (
          <p className="empty">
            No recorded sessions. A recording appears when this attacker gets an interactive shell
            on a decoy and the session ends.
          </p>
        )}
        {recordings.data !== undefined && recordings.data.recordings.length > 0 && (
          <table>
            <thead>
              <tr>
                <th>ended (UTC)</th>
                <th>service</th>
                <th>decky</th>
                <th>source</th>
                <th>length</th>
                <th>size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {recordings.data.recordings.map((r) => (
                <tr key={r.sessionId}>
                  <td className="mono">{formatDateTime(r.time)}</td>
                  <td>{r.service}</td>
                  <td>{r.decky}</td>
                  <td className="mono">{r.sourceAddress}</td>
                  <td>
                    {formatDuration(r.durationMs)}
                    {r.truncated ? " (truncated)" : ""}
                  </td>
                  <td>{formatBytes(r.castBytes)}</td>
                  <td>
                    {canReplay ? (
                      <a className="button" href={routeHash({ page: "replay", sessionId: r.sessionId })}>
                        Replay
                      </a>
                    ) : (
                      <span className="hint">replay needs the analyst role</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <ErrorNotice error={history.error} role={role} />
      <EventFeed
        title="Events of this attacker"
        events={events}
        attackerFilter=""
        onClearAttackerFilter={() => {}}
        secretsVisible={canReplay}
      />
    </>
  );
}
