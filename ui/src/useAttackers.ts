// Attacker list, loaded once and refreshed soon after new events arrive.
// There is no polling: attacker records change only when events are
// ingested, and the event stream (with its backfill after each reconnect)
// reports every one of those.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { describeError, isCanceled, isUnauthenticated } from "./api";
import type { Attacker } from "./gen/decnet/api/v1/attacker_service_pb";

export interface AttackersState {
  attackers: Attacker[];
  error: string;
  loaded: boolean;
}

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
  // effect below call the current one without reloading the list.
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    const abort = new AbortController();
    let inFlight = false;
    // Set when a refresh is asked for while one runs: the running one may
    // have read the store before the new events were committed.
    let again = false;

    const refresh = async (): Promise<void> => {
      if (abort.signal.aborted) {
        return;
      }
      if (inFlight) {
        again = true;
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
      if (again) {
        again = false;
        void refresh();
      }
    };

    refreshRef.current = () => void refresh();
    void refresh();

    return () => {
      abort.abort();
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
