// Attacker list, polled and refreshed soon after new events arrive.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { describeError, isCanceled, isUnauthenticated } from "./api";
import type { Attacker } from "./gen/decnet/api/v1/attacker_service_pb";

export interface AttackersState {
  attackers: Attacker[];
  error: string;
  loaded: boolean;
}

// Polling catches attackers whose counters changed without an event that
// this feed saw (for example through a filter or after a reconnect).
const pollIntervalMs = 5000;

// Delay between the first new event and the refresh it triggers; events
// arrive in bursts, and one list request per burst is enough.
const eventRefreshDelayMs = 1000;

const pageSize = 200;

export function useAttackers(
  api: Api,
  eventsVersion: number,
  onUnauthenticated: () => void,
): AttackersState {
  const [state, setState] = useState<AttackersState>({ attackers: [], error: "", loaded: false });
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;

  // refresh is replaced on every api change; the ref lets the event-driven
  // effect below call the current one without restarting the poller.
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    const abort = new AbortController();
    let inFlight = false;

    const refresh = async (): Promise<void> => {
      if (inFlight || abort.signal.aborted) {
        return;
      }
      inFlight = true;
      try {
        const res = await api.attackers.listAttackers({ pageSize }, { signal: abort.signal });
        setState({ attackers: res.attackers, error: "", loaded: true });
      } catch (err) {
        if (abort.signal.aborted || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          onUnauthenticatedRef.current();
          return;
        }
        setState((s) => ({ ...s, error: describeError(err) }));
      } finally {
        inFlight = false;
      }
    };

    refreshRef.current = () => void refresh();
    void refresh();
    const timer = setInterval(() => void refresh(), pollIntervalMs);

    return () => {
      abort.abort();
      clearInterval(timer);
      refreshRef.current = () => {};
    };
  }, [api]);

  // Throttled rather than debounced: during a steady flood the feed changes
  // every few hundred milliseconds, and a debounce would never fire.
  const scheduledRef = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => {
    if (eventsVersion === 0 || scheduledRef.current !== undefined) {
      return;
    }
    scheduledRef.current = setTimeout(() => {
      scheduledRef.current = undefined;
      refreshRef.current();
    }, eventRefreshDelayMs);
  }, [eventsVersion]);

  useEffect(
    () => () => {
      if (scheduledRef.current !== undefined) {
        clearTimeout(scheduledRef.current);
        scheduledRef.current = undefined;
      }
    },
    [],
  );

  return state;
}
