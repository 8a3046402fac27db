import { useState } from "react";

import { ErrorNotice } from "../components/ErrorNotice";
import { EventFeed } from "../components/EventFeed";
import { Histogram } from "../components/Histogram";
import { SecretValue } from "../components/SecretValue";
import { escapeControl, formatDateTime, shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { GetOverviewResponse } from "../gen/decnet/api/v1/event_service_pb";
import { routeHash } from "../nav";
import { bucketLabel, credentialAttempt, overviewBuckets } from "../overview";
import { useResource, useSession, useThrottled } from "../session";
import type { EventStreamState } from "../useEventStream";

// Windows the page offers. Each keeps the bucket count between 12 and 48,
// so bars stay readable on a laptop screen and well under the server's
// limit of 1000 buckets.
const windows = [
  { label: "last hour", windowS: 3600, bucketS: 300 },
  { label: "last 24 hours", windowS: 86_400, bucketS: 3600 },
  { label: "last 7 days", windowS: 7 * 86_400, bucketS: 6 * 3600 },
] as const;

const defaultWindow = 1;
const topN = 5;

// Live events reload the statistics at most this often. Each reload reads
// the whole window from the store, so a flood of events must not turn into
// a flood of reads.
const reloadThrottleMs = 5000;

export function OverviewPage({ stream }: { stream: EventStreamState }) {
  const { role } = useSession();
  const [windowIndex, setWindowIndex] = useState(defaultWindow);
  const choice = windows[windowIndex] ?? windows[defaultWindow];
  const seen = useThrottled(stream.version, reloadThrottleMs);
  const overview = useResource(
    (api, signal) =>
      api.events.getOverview(
        {
          window: { seconds: BigInt(choice.windowS) },
          bucket: { seconds: BigInt(choice.bucketS) },
          topN,
        },
        { signal },
      ),
    [choice, seen],
  );
  const secretsVisible = role >= Role.ANALYST;
  const o = overview.data;

  return (
    <>
      <h1 tabIndex={-1}>Overview</h1>
      <ErrorNotice error={overview.error} role={role} />
      <Totals overview={o} />

      <section aria-labelledby="histogram-title">
        <h2 id="histogram-title">
          Events in the{" "}
          <select
            aria-label="Time window"
            value={windowIndex}
            onChange={(e) => setWindowIndex(Number(e.target.value))}
          >
            {windows.map((w, i) => (
              <option key={w.label} value={i}>
                {w.label}
              </option>
            ))}
          </select>
        </h2>
        {o !== undefined && (
          <>
            <Histogram buckets={overviewBuckets(o)} bucketLabel={bucketLabel(choice.bucketS * 1000)} />
            <p className="hint">
              {o.windowEvents.toString()} events in {o.windowSessions.toString()} sessions in this
              window, by the time the decoy saw them.
            </p>
          </>
        )}
      </section>

      {o !== undefined && (
        <div className="columns">
          <section aria-labelledby="top-attackers-title">
            <h2 id="top-attackers-title">Top attackers</h2>
            <TopAttackers overview={o} />
          </section>
          <section aria-labelledby="top-credentials-title">
            <h2 id="top-credentials-title">Top credentials</h2>
            <TopCredentials overview={o} secretsVisible={secretsVisible} />
          </section>
          <section aria-labelledby="kinds-title">
            <h2 id="kinds-title">Event kinds</h2>
            <CountTable rows={o.kinds} label="kind" />
          </section>
          <section aria-labelledby="services-title">
            <h2 id="services-title">Services</h2>
            <CountTable rows={o.services} label="service" />
          </section>
        </div>
      )}

      <EventFeed
        events={stream.events}
        attackerFilter=""
        onClearAttackerFilter={() => {}}
        secretsVisible={secretsVisible}
      />
    </>
  );
}

export function Totals({ overview }: { overview: GetOverviewResponse | undefined }) {
  const show = (n: bigint | undefined): string => (n === undefined ? "…" : n.toString());
  return (
    <dl className="stats">
      <div>
        <dt>events</dt>
        <dd data-testid="count-events">{show(overview?.totalEvents)}</dd>
      </div>
      <div>
        <dt>attackers</dt>
        <dd data-testid="count-attackers">{show(overview?.totalAttackers)}</dd>
      </div>
      <div>
        <dt>credentials</dt>
        <dd data-testid="count-credentials">{show(overview?.totalCredentials)}</dd>
      </div>
      <div>
        <dt>recorded sessions</dt>
        <dd data-testid="count-sessions">{show(overview?.totalRecordedSessions)}</dd>
      </div>
    </dl>
  );
}

export function TopAttackers({ overview }: { overview: GetOverviewResponse }) {
  if (overview.topAttackers.length === 0) {
    return (
      <p className="empty">
        No attackers in this window. When a decoy sees its first connection, the source shows up
        here.
      </p>
    );
  }
  return (
    <table className="attackers">
      <thead>
        <tr>
          <th>attacker</th>
          <th>addresses</th>
          <th className="num">events</th>
          <th>last seen (UTC)</th>
        </tr>
      </thead>
      <tbody>
        {overview.topAttackers.map((a) => (
          <tr key={a.attackerId}>
            <td className="mono">
              <a href={routeHash({ page: "attacker", id: a.attackerId })} title={a.attackerId}>
                {shortId(a.attackerId)}
              </a>
            </td>
            <td className="mono addresses" title={a.addresses.join("\n")}>
              {a.addresses.join(", ")}
            </td>
            <td className="num">{a.events.toString()}</td>
            <td className="mono">{formatDateTime(a.lastSeen)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TopCredentials({
  overview,
  secretsVisible,
}: {
  overview: GetOverviewResponse;
  secretsVisible: boolean;
}) {
  if (overview.topCredentials.length === 0) {
    return (
      <p className="empty">
        No login attempts in this window. Credentials appear when someone tries to log in to an
        SSH, Telnet, FTP or HTTP decoy.
      </p>
    );
  }
  return (
    <table>
      <thead>
        <tr>
          <th>principal</th>
          <th>secret</th>
          <th className="num">tries</th>
        </tr>
      </thead>
      <tbody>
        {overview.topCredentials.map((c, i) => (
          <tr key={i}>
            <td className="principal">{escapeControl(c.principal) || "(none)"}</td>
            <td>
              <SecretValue attempt={credentialAttempt(c)} masked={!secretsVisible || c.secretMasked} />
            </td>
            <td className="num">{c.count.toString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function CountTable({ rows, label }: { rows: GetOverviewResponse["kinds"]; label: string }) {
  if (rows.length === 0) {
    return <p className="empty">No events in this window.</p>;
  }
  return (
    <table>
      <thead>
        <tr>
          <th>{label}</th>
          <th className="num">events</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name}>
            <td className="mono">{escapeControl(r.name) || "(none)"}</td>
            <td className="num">{r.count.toString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
