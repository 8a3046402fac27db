import { useEffect, useMemo, useRef, useState } from "react";

import { isCanceled, isUnauthenticated } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { EventRow } from "../components/EventFeed";
import {
  emptySearch,
  isFiltered,
  knownKinds,
  liveAdditions,
  searchToFilter,
  type EventSearch,
} from "../events";
import { mergeEvents } from "../feed";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { EventFilter, StoredEvent } from "../gen/decnet/api/v1/event_service_pb";
import { useSession } from "../session";
import type { EventStreamState } from "../useEventStream";

const pageSize = 100;

// Live events kept above the results. The stream can outpace anyone
// reading, and the store keeps every event for a new search.
const liveCapacity = 1000;

interface Results {
  filter: EventFilter;
  events: StoredEvent[];
  nextPageToken: string;
  // Ids in the live feed when the search ran. Those events are in the
  // store's response or older than it, so they never count as live.
  feedAtSearch: ReadonlySet<string>;
}

export function EventsPage({ stream }: { stream: EventStreamState }) {
  const { api, role, onUnauthenticated } = useSession();
  const [form, setForm] = useState<EventSearch>(emptySearch);
  const [formError, setFormError] = useState("");
  const [results, setResults] = useState<Results | undefined>(undefined);
  const [live, setLive] = useState(true);
  const [liveEvents, setLiveEvents] = useState<StoredEvent[]>([]);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const abortRef = useRef<AbortController | null>(null);
  const feedRef = useRef(stream.events);
  feedRef.current = stream.events;

  // Runs a search, or with pageToken loads the next page of the current one.
  const run = (filter: EventFilter, pageToken: string): void => {
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    setLoading(true);
    api.events
      .listEvents({ filter, pageSize, pageToken }, { signal: abort.signal })
      .then((res) => {
        setError(undefined);
        setLoading(false);
        if (pageToken === "") {
          setLiveEvents([]);
          setResults({
            filter,
            events: res.events,
            nextPageToken: res.nextPageToken,
            feedAtSearch: new Set(feedRef.current.map((s) => s.event?.id ?? "")),
          });
          return;
        }
        setResults((r) =>
          r === undefined
            ? r
            : { ...r, events: [...r.events, ...res.events], nextPageToken: res.nextPageToken },
        );
      })
      .catch((err: unknown) => {
        if (abort.signal.aborted || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          onUnauthenticated();
          return;
        }
        setLoading(false);
        setError(err);
      });
  };

  const search = (s: EventSearch): void => {
    const mapped = searchToFilter(s);
    setFormError(mapped.error);
    if (mapped.filter !== undefined) {
      run(mapped.filter, "");
    }
  };

  // The newest events, unfiltered, when the page opens.
  useEffect(() => {
    search(emptySearch);
    return () => abortRef.current?.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const shownIds = useMemo(() => {
    const ids = new Set<string>();
    for (const s of results?.events ?? []) ids.add(s.event?.id ?? "");
    for (const s of liveEvents) ids.add(s.event?.id ?? "");
    return ids;
  }, [results, liveEvents]);

  useEffect(() => {
    if (!live || results === undefined) {
      return;
    }
    const added = liveAdditions(stream.events, results.filter, shownIds, results.feedAtSearch);
    if (added.length > 0) {
      setLiveEvents((cur) => mergeEvents(cur, added, liveCapacity));
    }
    // Only new events from the stream add rows, and shownIds changes with
    // them, so it is left out of the dependencies.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stream.version, live, results]);

  const set = (field: keyof EventSearch) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: e.target.value }));

  const rows = [...liveEvents, ...(results?.events ?? [])];
  const secretsVisible = role >= Role.ANALYST;

  return (
    <>
      <h1 tabIndex={-1}>Events</h1>
      <p className="hint">
        Search every stored event, newest first. Fields left empty match everything; times are
        UTC.
      </p>
      <form
        className="inline-form event-search"
        aria-label="Search events"
        onSubmit={(e) => {
          e.preventDefault();
          search(form);
        }}
      >
        <label>
          Source address{" "}
          <input name="source" value={form.sourceAddress} onChange={set("sourceAddress")} placeholder="192.0.2.7" />
        </label>
        <label>
          Attacker{" "}
          <input name="attacker" value={form.attackerId} onChange={set("attackerId")} placeholder="attacker id" />
        </label>
        <label>
          Kind{" "}
          <input name="kind" list="event-kinds" value={form.kind} onChange={set("kind")} placeholder="any kind" />
          <datalist id="event-kinds">
            {knownKinds.map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <label>
          Service <input name="service" value={form.service} onChange={set("service")} placeholder="ssh" />
        </label>
        <label>
          Decky <input name="decky" value={form.decky} onChange={set("decky")} placeholder="any decky" />
        </label>
        <label>
          From <input name="since" type="datetime-local" value={form.since} onChange={set("since")} />
        </label>
        <label>
          To <input name="until" type="datetime-local" value={form.until} onChange={set("until")} />
        </label>
        <button type="submit">Search</button>
        <button
          type="button"
          onClick={() => {
            setForm(emptySearch);
            search(emptySearch);
          }}
        >
          Clear
        </button>
        <label className="check">
          <input
            type="checkbox"
            name="live"
            checked={live}
            onChange={(e) => setLive(e.target.checked)}
          />{" "}
          Live: add new matching events at the top
        </label>
      </form>
      {formError !== "" && (
        <p className="pane-error" role="alert">
          {formError}
        </p>
      )}
      <ErrorNotice error={error} role={role} />

      <section className="pane" aria-label="Search results">
        <h2>
          Results <span className="count" data-testid="event-result-count">{rows.length}</span>
          {liveEvents.length > 0 && <span className="tag">{liveEvents.length} live</span>}
          {loading && <span className="hint"> loading…</span>}
        </h2>
        {results !== undefined && rows.length === 0 && !loading && (
          <EventsEmpty filtered={isFiltered(results.filter)} />
        )}
        {rows.length > 0 && (
          <div className="scroll">
            <table data-testid="event-results">
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
                {rows.map((s) => (
                  <EventRow key={s.event?.id} stored={s} secretsVisible={secretsVisible} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {results !== undefined && results.nextPageToken !== "" && (
          <button type="button" disabled={loading} onClick={() => run(results.filter, results.nextPageToken)}>
            Load older events
          </button>
        )}
      </section>
    </>
  );
}

// EventsEmpty explains why the list is empty and what to do next.
export function EventsEmpty({ filtered }: { filtered: boolean }) {
  if (filtered) {
    return (
      <p className="empty">
        No stored event matches this search. Clear a field or widen the time range; with Live on,
        new matching events still appear here.
      </p>
    );
  }
  return (
    <p className="empty">
      No events stored yet. Events appear the moment a decoy sees a connection: enroll a sensor on
      the Enroll page, then connect to one of the decoy addresses listed on the Fleet page, for
      example with ssh.
    </p>
  );
}
