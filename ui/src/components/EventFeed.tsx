import { useMemo, useState } from "react";

import {
  escapeControl,
  formatDateTime,
  formatEndpoint,
  formatTimeOfDay,
  outcomeLabel,
  shortId,
  summarizeEvent,
} from "../format";
import type { StoredEvent } from "../gen/decnet/api/v1/event_service_pb";
import type { Event } from "../gen/decnet/event/v1/event_pb";
import { routeHash } from "../nav";
import { SecretValue } from "./SecretValue";

interface EventFeedProps {
  events: StoredEvent[];
  // Attacker id to filter on, or "" for all events.
  attackerFilter: string;
  onClearAttackerFilter: () => void;
  // False when the user's role may not see captured secret values.
  secretsVisible: boolean;
  // Heading text of the feed.
  title?: string;
}

const kindFilters = [
  { value: "", label: "all kinds" },
  { value: "auth.attempt", label: "auth.attempt" },
  { value: "command", label: "command" },
  { value: "http.request", label: "http.request" },
  { value: "connection.", label: "connection.*" },
];

function matchesKind(event: Event, filter: string): boolean {
  if (filter === "") {
    return true;
  }
  return filter.endsWith(".") ? event.kind.startsWith(filter) : event.kind === filter;
}

export function EventFeed(props: EventFeedProps) {
  const { events, attackerFilter, onClearAttackerFilter, secretsVisible, title = "Live events" } = props;
  const [kindFilter, setKindFilter] = useState("");
  // While paused the table shows this snapshot, so rows stop moving under
  // the analyst's pointer; the live list keeps filling behind it.
  const [frozen, setFrozen] = useState<StoredEvent[] | null>(null);

  const source = frozen ?? events;
  const visible = useMemo(
    () =>
      source.filter(
        (s) =>
          s.event !== undefined &&
          (attackerFilter === "" || s.attackerId === attackerFilter) &&
          matchesKind(s.event, kindFilter),
      ),
    [source, attackerFilter, kindFilter],
  );
  const newSincePause = frozen === null ? 0 : countNewer(events, frozen);

  return (
    <section className="pane feed" aria-label={title}>
      <h2>
        {title} <span className="count">{visible.length}</span>
        <select
          aria-label="Event kind"
          value={kindFilter}
          onChange={(e) => setKindFilter(e.target.value)}
        >
          {kindFilters.map((f) => (
            <option key={f.value} value={f.value}>
              {f.label}
            </option>
          ))}
        </select>
        {attackerFilter !== "" && (
          <button type="button" className="chip" onClick={onClearAttackerFilter}>
            attacker {shortId(attackerFilter)} ✕
          </button>
        )}
        <button
          type="button"
          className="link"
          onClick={() => setFrozen((cur) => (cur === null ? events : null))}
        >
          {frozen === null ? "Pause" : `Resume (${newSincePause} new)`}
        </button>
      </h2>
      <div className="scroll">
        <table>
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>kind</th>
              <th>service</th>
              <th>decky</th>
              <th>source</th>
              <th>attacker</th>
              <th>detail</th>
            </tr>
          </thead>
          <tbody>
            {visible.map((s) => (
              <EventRow key={s.event?.id} stored={s} secretsVisible={secretsVisible} />
            ))}
          </tbody>
        </table>
        {visible.length === 0 && (
          <p className="empty">
            No events yet. They appear here the moment a decoy sees a connection; try one of the
            decoy addresses listed on the Fleet page.
          </p>
        )}
      </div>
    </section>
  );
}

function countNewer(live: StoredEvent[], snapshot: StoredEvent[]): number {
  const known = new Set(snapshot.map((s) => s.event?.id));
  return live.filter((s) => !known.has(s.event?.id)).length;
}

export function EventRow({ stored, secretsVisible }: { stored: StoredEvent; secretsVisible: boolean }) {
  const event = stored.event;
  if (event === undefined) {
    return null;
  }
  const payload = event.payload;

  return (
    <tr className={`kind-${event.kind.replace(/[^a-z0-9]/gi, "-")}`}>
      <td className="mono" title={formatDateTime(event.time)}>
        {formatTimeOfDay(event.time)}
      </td>
      <td className="mono">{escapeControl(event.kind)}</td>
      <td>{escapeControl(event.service)}</td>
      <td>{escapeControl(event.decky)}</td>
      <td className="mono">{formatEndpoint(event.source)}</td>
      <td className="mono">
        {stored.attackerId !== "" && (
          <a href={routeHash({ page: "attacker", id: stored.attackerId })} title={stored.attackerId}>
            {shortId(stored.attackerId)}
          </a>
        )}
      </td>
      <td className="detail">
        {payload.case === "authAttempt" ? (
          <span className="auth">
            <span className="principal" title="principal">
              {escapeControl(payload.value.principal) || "(no principal)"}
            </span>
            <span className="tag" title="mechanism">
              {escapeControl(payload.value.mechanism)}
            </span>
            <span className="tag" title="secret kind">
              {escapeControl(payload.value.secretKind)}
            </span>
            <span className={`outcome outcome-${outcomeLabel(payload.value.outcome)}`}>
              {outcomeLabel(payload.value.outcome)}
            </span>
            <SecretValue attempt={payload.value} masked={!secretsVisible} />
          </span>
        ) : (
          <span title={summarizeEvent(event)}>{summarizeEvent(event)}</span>
        )}
      </td>
    </tr>
  );
}
