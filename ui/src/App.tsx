import { useCallback, useEffect, useMemo, useState } from "react";

import { createApi, isCanceled, isUnauthenticated } from "./api";
import { Dashboard } from "./components/Dashboard";
import { LoginForm } from "./components/LoginForm";

type Phase =
  | { name: "checking" }
  | { name: "login"; notice: string }
  | { name: "dashboard"; username: string };

export function App() {
  // The API is served from the same origin as the dashboard.
  const api = useMemo(() => createApi(window.location.origin), []);
  const [phase, setPhase] = useState<Phase>({ name: "checking" });

  // The session cookie is HttpOnly, so the only way to learn whether it is
  // still valid is to make a call with it.
  useEffect(() => {
    const abort = new AbortController();
    api.attackers
      .listAttackers({ pageSize: 1 }, { signal: abort.signal })
      .then(() => setPhase({ name: "dashboard", username: "" }))
      .catch((err: unknown) => {
        if (abort.signal.aborted || isCanceled(err)) {
          return;
        }
        if (isUnauthenticated(err)) {
          setPhase({ name: "login", notice: "" });
          return;
        }
        // Any other failure (server down, proxy error) is shown and retried
        // by the dashboard itself, which returns here on Unauthenticated.
        setPhase({ name: "dashboard", username: "" });
      });
    return () => abort.abort();
  }, [api]);

  const handleUnauthenticated = useCallback(() => {
    setPhase({ name: "login", notice: "Your session has ended. Log in again." });
  }, []);

  const handleLoggedIn = useCallback((username: string) => {
    setPhase({ name: "dashboard", username });
  }, []);

  const handleLogout = useCallback(async () => {
    try {
      await api.auth.logout({});
    } catch {
      // The session may already be gone; the login form is shown either way.
    }
    setPhase({ name: "login", notice: "Logged out." });
  }, [api]);

  switch (phase.name) {
    case "checking":
      return <div className="splash">Connecting to the control plane…</div>;
    case "login":
      return <LoginForm api={api} notice={phase.notice} onLoggedIn={handleLoggedIn} />;
    case "dashboard":
      return (
        <Dashboard
          api={api}
          username={phase.username}
          onUnauthenticated={handleUnauthenticated}
          onLogout={handleLogout}
        />
      );
  }
}
