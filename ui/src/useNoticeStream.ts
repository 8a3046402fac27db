// Live notices: StreamNotices for one subject pattern, with reconnects. Pages
// reload what a notice changes (an identity merged, for example) when the
// version moves, instead of polling.

import { useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { isCanceled, isUnauthenticated } from "./api";
import { backoffDelay, sleep } from "./backoff";

export interface NoticeStreamState {
  // Incremented once per batch of matching notices, and once per
  // reconnect, since notices sent while the stream was down are lost.
  version: number;
  live: boolean;
}

// Notices are counted for this long before a render, so a burst of merges
// reloads a page once.
const flushIntervalMs = 500;

export function useNoticeStream(api: Api, pattern: string, onUnauthenticated: () => void): NoticeStreamState {
  const [state, setState] = useState<NoticeStreamState>({ version: 0, live: false });
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;

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
          const stream = api.notices.streamNotices({ pattern }, { signal: abort.signal, onHeader: markLive });
          for await (const res of stream) {
            if (res.notice !== undefined) {
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
  }, [api, pattern]);

  return state;
}
