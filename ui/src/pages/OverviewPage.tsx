import { useEffect, useMemo, useState } from "react";

import { AttackerList } from "../components/AttackerList";
import { EventFeed } from "../components/EventFeed";
import { Histogram } from "../components/Histogram";
import { SecretValue } from "../components/SecretValue";
import { escapeControl } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import { feedCapacity } from "../feed";
import { bucketize } from "../histogram";
import { countFeed, eventTimes, topCredentials } from "../overview";
import { useSession } from "../session";
import type { AttackersState } from "../useAttackers";
import type { EventStreamState } from "../useEventStream";

// One hour of one-minute bars: enough to see a burst and its shape on a
// laptop screen.
const bucketMs = 60_000;
const bucketCount = 60;

// The chart slides forward once a minute even when no event arrives.
const clockTickMs = 60_000;

const topN = 5;

export function OverviewPage({
  stream,
  attackers,
}: {
  stream: EventStreamState;
  attackers: AttackersState;
}) {
  const { role } = useSession();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), clockTickMs);
    return () => clearInterval(timer);
  }, []);

  const counts = useMemo(() => countFeed(stream.events), [stream.events]);
  // New events also move the window, so the newest falls in the last bar.
  const buckets = useMemo(
    () => bucketize(eventTimes(stream.events), Date.now(), bucketMs, bucketCount),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [stream.events, tick],
  );
  const credentials = useMemo(() => topCredentials(stream.events, topN), [stream.events]);
  const busiest = useMemo(
    () =>
      [...attackers.attackers]
        .sort((a, b) => Number(b.eventCount - a.eventCount))
        .slice(0, topN),
    [attackers.attackers],
  );
  const secretsVisible = role >= Role.ANALYST;

  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <dl className="stats">
        <div>
          <dt>attackers</dt>
          <dd data-testid="count-attackers">{attackers.attackers.length}</dd>
        </div>
        <div>
          <dt>recent events</dt>
          <dd data-testid="count-events">{counts.events}</dd>
        </div>
        <div>
          <dt>auth attempts</dt>
          <dd data-testid="count-auth">{counts.authAttempts}</dd>
        </div>
        <div>
          <dt>source addresses</dt>
          <dd>{counts.sources}</dd>
        </div>
      </dl>
      <p className="hint">
        Counts, chart and tops cover the latest {feedCapacity} events kept in this browser; the
        attacker count covers the whole store (first 200).
      </p>

      <section aria-labelledby="histogram-title">
        <h2 id="histogram-title">Events in the last hour</h2>
        <Histogram buckets={buckets} bucketLabel="1 minute" />
      </section>

      <div className="columns">
        <section aria-labelledby="top-attackers-title">
          <h2 id="top-attackers-title">Top attackers</h2>
          <AttackerList
            attackers={busiest}
            empty="No attackers yet. When a decoy sees its first connection, the source shows up here."
          />
        </section>
        <section aria-labelledby="top-credentials-title">
          <h2 id="top-credentials-title">Top credentials</h2>
          {credentials.length === 0 ? (
            <p className="empty">
              No login attempts yet. Credentials appear when someone tries to log in to an SSH,
              Telnet, FTP or HTTP decoy.
            </p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>principal</th>
                  <th>secret</th>
                  <th className="num">tries</th>
                </tr>
              </thead>
              <tbody>
                {credentials.map((c, i) => (
                  <tr key={i}>
                    <td className="principal">{escapeControl(c.attempt.principal) || "(none)"}</td>
                    <td>
                      <SecretValue attempt={c.attempt} masked={!secretsVisible} />
                    </td>
                    <td className="num">{c.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <EventFeed
        events={stream.events}
        attackerFilter=""
        onClearAttackerFilter={() => {}}
        secretsVisible={secretsVisible}
      />
    </>
  );
}
