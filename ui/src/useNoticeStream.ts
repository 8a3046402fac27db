// Live versions: a counter that moves when a server stream says something
// changed, with reconnects. Pages reload what changed (an identity merged,
// an agent's heartbeat) when the version moves, instead of polling.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { isCanceled, isUnauthenticated } from "./api";
import { backoffDelay, sleep } from "./backoff";
import { useSession } from "./session";

export interface LiveVersion {
  // Incremented once per batch of messages, and once per reconnect,
  // since messages sent while the stream was down are lost.
  version: number;
  live: boolean;
}

// Messages are counted for this long before a render, so a burst reloads
// a page once.
const flushIntervalMs = 500;

// Opens one stream; the caller passes the signal and the header callback
// to the generated client.
type OpenStream = (api: Api, signal: AbortSignal, onHeader: () => void) => AsyncIterable<unknown>;

function useLiveVersion(api: Api, key: string, open: OpenStream, onUnauthenticated: () => void): LiveVersion {
  const [state, setState] = useState<LiveVersion>({ version: 0, live: false });
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;
  const openRef = useRef(open);
  openRef.current = open;

  useEffect(() => {
    const abort = new AbortController();
    let flushTimer: ReturnType<typeof setTimeout> | undefined;
    const bump = (): void => {
      if (flushTimer === undefined) {
        flushTimer = setTimeout(() => {
          flushTimer = undefined;
          setState((s) => ({ ...s, version: s.version + 1 }));
        }, flushIntervalMs);
      }
    };

    const run = async (): Promise<void> => {
      let attempt = 0;
      let connectedBefore = false;
      while (!abort.signal.aborted) {
        const markLive = (): void => {
          attempt = 0;
          setState((s) => ({ ...s, live: true }));
          if (connectedBefore) {
            bump();
          }
          connectedBefore = true;
        };
        try {
          for await (const res of openRef.current(api, abort.signal, markLive)) {
            if (res !== undefined) {
              bump();
            }
          }
        } catch (err) {
          if (abort.signal.aborted || isCanceled(err)) {
            return;
          }
          if (isUnauthenticated(err)) {
            onUnauthenticatedRef.current();
            return;
          }
        }
        setState((s) => ({ ...s, live: false }));
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
  }, [api, key]);

  return state;
}

// Moves with each notice whose subject matches pattern.
export function useNoticeStream(api: Api, pattern: string, onUnauthenticated: () => void): LiveVersion {
  return useLiveVersion(
    api,
    pattern,
    async function* (a, signal, onHeader) {
      for await (const res of a.notices.streamNotices({ pattern }, { signal, onHeader })) {
        if (res.notice !== undefined) {
          yield res.notice;
        }
      }
    },
    onUnauthenticated,
  );
}

// Moves when the replica hears from any agent: a heartbeat, a connection
// or a status change.
export function useAgentUpdates(): LiveVersion {
  const { api, onUnauthenticated } = useSession();
  return useLiveVersion(
    api,
    "agents",
    async function* (a, signal, onHeader) {
      for await (const res of a.agents.streamAgentUpdates({}, { signal, onHeader })) {
        if (res.agentId !== "") {
          yield res.agentId;
        }
      }
    },
    onUnauthenticated,
  );
}
