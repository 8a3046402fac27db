// The signed-in user and the API, shared by every page of the dashboard.

import { createContext, useContext, useEffect, useRef, useState } from "react";

import type { Api } from "./api";
import { isCanceled, isUnauthenticated } from "./api";
import { Role } from "./gen/decnet/api/v1/access_pb";

export interface Session {
  api: Api;
  username: string;
  role: Role;
  // Called when a call finds the session gone; the app returns to login.
  onUnauthenticated: () => void;
}

const SessionContext = createContext<Session | null>(null);

export const SessionProvider = SessionContext.Provider;

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) {
    throw new Error("useSession outside SessionProvider");
  }
  return session;
}

export interface Resource<T> {
  data: T | undefined;
  // Last error, or undefined. Kept while older data stays on screen.
  error: unknown;
  loading: boolean;
  reload: () => void;
}

// Loads data with load and reloads it whenever one of deps or the reload
// counter changes. A lost session sends the user to the login form; every
// other error is returned for the page to explain.
export function useResource<T>(
  load: (api: Api, signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
): Resource<T> {
  const { api, onUnauthenticated } = useSession();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [counter, setCounter] = useState(0);
  // Kept in refs so a new closure identity does not reload on every render.
  const loadRef = useRef(load);
  loadRef.current = load;
  const onUnauthenticatedRef = useRef(onUnauthenticated);
  onUnauthenticatedRef.current = onUnauthenticated;

  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current(api, abort.signal)
      .then((data) => setState({ data, error: undefined, loading: false }))
      .catch((err: unknown) => {
        if (abort.signal.aborted || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          onUnauthenticatedRef.current();
          return;
        }
        setState((s) => ({ ...s, error: err, loading: false }));
      });
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [api, counter, ...deps]);

  return { ...state, reload: () => setCounter((c) => c + 1) };
}

// Returns value, but changes at most once per intervalMs, keeping the last
// change of an interval for its end. Reloads keyed on the live feed use it
// so that a flood of events, which changes the feed every few hundred
// milliseconds, does not cancel each reload with the next.
export function useThrottled<T>(value: T, intervalMs: number): T {
  const [shown, setShown] = useState(value);
  const lastRef = useRef(0);
  useEffect(() => {
    if (Object.is(value, shown)) {
      return;
    }
    const wait = lastRef.current + intervalMs - Date.now();
    if (wait <= 0) {
      lastRef.current = Date.now();
      setShown(value);
      return;
    }
    const timer = setTimeout(() => {
      lastRef.current = Date.now();
      setShown(value);
    }, wait);
    return () => clearTimeout(timer);
  }, [value, shown, intervalMs]);
  return shown;
}
