// Live event feed: StreamEvents with reconnects, plus a ListEvents backfill
// on every connect so events committed while the stream was down appear.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { describeError, isCanceled, isUnauthenticated } from "./api";
import { backoffDelay, sleep } from "./backoff";
import { feedCapacity, mergeEvents } from "./feed";
import type { StoredEvent } from "./gen/decnet/api/v1/event_service_pb";

export type StreamStatus = "connecting" | "live" | "reconnecting";

export interface EventStreamState {
  events: StoredEvent[];
  status: StreamStatus;
  // Last stream or backfill error, cleared once the stream is live again.
  error: string;
  // Incremented each time new events reach the feed.
  version: number;
}

// Events are batched for this long before a render, so a burst of hundreds
// of events per second costs a few renders instead of one each.
const flushIntervalMs = 200;

// Events fetched with ListEvents after each connect.
const backfillPageSize = 200;

export function useEventStream(api: Api, onUnauthenticated: () => void): EventStreamState {
  const [state, setState] = useState<EventStreamState>({
    events: [],
    status: "connecting",
    error: "",
    version: 0,
  });

  // Kept in a ref so a new callback identity does not restart the stream.
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;

  useEffect(() => {
    const abort = new AbortController();
    let pending: StoredEvent[] = [];
    let flushTimer: ReturnType<typeof setTimeout> | undefined;

    const flush = (): void => {
      flushTimer = undefined;
      const batch = pending;
      pending = [];
      setState((s) => ({
        ...s,
        events: mergeEvents(s.events, batch, feedCapacity),
        version: s.version + 1,
      }));
    };

    const push = (events: StoredEvent[]): void => {
      pending.push(...events);
      if (flushTimer === undefined) {
        flushTimer = setTimeout(flush, flushIntervalMs);
      }
    };

    const setStatus = (status: StreamStatus, error?: string): void => {
      setState((s) => ({ ...s, status, error: error ?? (status === "live" ? "" : s.error) }));
    };

    // Returns true when the caller must stop because the session ended or
    // the hook unmounted. Otherwise it records the error, and a failed stream
    // (but not a failed backfill) also changes the status to reconnecting.
    const handleFailure = (err: unknown, streamFailed: boolean): boolean => {
      if (abort.signal.aborted || isCanceled(err)) {
        return true;
      }
      if (isUnauthenticated(err)) {
        onUnauthenticatedRef.current();
        return true;
      }
      if (streamFailed) {
        setStatus("reconnecting", describeError(err));
      } else {
        setState((s) => ({ ...s, error: describeError(err) }));
      }
      return false;
    };

    const backfill = async (): Promise<void> => {
      try {
        const res = await api.events.listEvents(
          { pageSize: backfillPageSize },
          { signal: abort.signal },
        );
        push(res.events);
      } catch (err) {
        handleFailure(err, false);
      }
    };

    const run = async (): Promise<void> => {
      let attempt = 0;
      while (!abort.signal.aborted) {
        let live = false;
        const markLive = (): void => {
          if (!live) {
            live = true;
            attempt = 0;
            setStatus("live");
          }
        };

        // Started next to the stream rather than after it: connect-go sends
        // response headers only with the first message, so waiting for them
        // could delay the backfill until the next event.
        void backfill();

        try {
          const stream = api.events.streamEvents({}, { signal: abort.signal, onHeader: markLive });
          for await (const res of stream) {
            markLive();
            // A response without an event is a heartbeat.
            if (res.event !== undefined) {
              push([res.event]);
            }
          }
          setStatus("reconnecting", "stream ended");
        } catch (err) {
          if (handleFailure(err, true)) {
            return;
          }
        }

        await sleep(backoffDelay(attempt, Math.random), abort.signal);
        attempt++;
      }
    };

    void run();

    return () => {
      abort.abort();
      if (flushTimer !== undefined) {
        clearTimeout(flushTimer);
      }
    };
  }, [api]);

  return state;
}
