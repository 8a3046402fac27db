// One page of the attacker list, loaded when its request changes and
// refreshed soon after new events arrive. There is no polling: attacker
// records change only when events are ingested, and the event stream
// (with its backfill after each reconnect) reports every one of those.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { describeError, isCanceled, isUnauthenticated } from "./api";
import type { Attacker, ListAttackersRequest } from "./gen/decnet/api/v1/attacker_service_pb";

export interface AttackersState {
  attackers: Attacker[];
  // The token of the page after this one, "" on the last page.
  nextPageToken: string;
  error: string;
  // Set once a response for any request has arrived.
  loaded: boolean;
  // Set while a new request runs; the rows are still the previous ones.
  loading: boolean;
}

// Delay between the first new event and the refresh it triggers; events
// arrive in bursts, and one list request per burst is enough.
const eventRefreshDelayMs = 1000;

// Lists the page that request selects. Callers memoize request, because a
// new object loads the list again. An undefined request loads nothing and
// keeps the rows, for a form that does not validate yet.
export function useAttackers(
  api: Api,
  request: ListAttackersRequest | undefined,
  eventsVersion: number,
  onUnauthenticated: () => void,
): AttackersState {
  const [state, setState] = useState<AttackersState>({
    attackers: [],
    nextPageToken: "",
    error: "",
    loaded: false,
    loading: false,
  });
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;

  // refresh is replaced on every api or request change; the ref lets the
  // event-driven effect below call the current one without reloading the
  // list.
  const refreshRef = useRef<() => void>(() => {});

  useEffect(() => {
    if (request === undefined) {
      return;
    }
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
        const res = await api.attackers.listAttackers(request, { signal: abort.signal });
        setState({ attackers: res.attackers, nextPageToken: res.nextPageToken, error: "", loaded: true, loading: false });
      } catch (err) {
        if (abort.signal.aborted || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          onUnauthenticatedRef.current();
          return;
        }
        setState((s) => ({ ...s, error: describeError(err), loading: false }));
      } finally {
        inFlight = false;
      }
      if (again) {
        again = false;
        void refresh();
      }
    };

    refreshRef.current = () => void refresh();
    // Only a new request marks the list loading; refreshes after events
    // replace the rows without it.
    setState((s) => ({ ...s, loading: true }));
    void refresh();

    return () => {
      abort.abort();
      refreshRef.current = () => {};
    };
  }, [api, request]);

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
