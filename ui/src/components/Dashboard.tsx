import { lazy, Suspense, useEffect, useMemo, useState } from "react";

import type { Api } from "../api";
import { Role } from "../gen/decnet/api/v1/access_pb";
import {
  activeNavPage,
  canOpen,
  parseRoute,
  roleLabel,
  routeHash,
  visibleNavItems,
  type Route,
} from "../nav";
import { AccountPage } from "../pages/AccountPage";
import { AttackerDetailPage } from "../pages/AttackerDetailPage";
import { AuditPage } from "../pages/AuditPage";
import { CampaignsPage } from "../pages/CampaignsPage";
import { AttackersPage } from "../pages/AttackersPage";
import { CredentialsPage } from "../pages/CredentialsPage";
import { EnrollPage } from "../pages/EnrollPage";
import { EventsPage } from "../pages/EventsPage";
import { FleetPage } from "../pages/FleetPage";
import { IdentitiesPage } from "../pages/IdentitiesPage";
import { OverviewPage } from "../pages/OverviewPage";
import { SettingsPage } from "../pages/SettingsPage";
import { TopologyPage } from "../pages/TopologyPage";
import { UsersPage } from "../pages/UsersPage";
import { WebhooksPage } from "../pages/WebhooksPage";
import { SessionProvider, type Session } from "../session";
import { useEventStream, type EventStreamState, type StreamStatus } from "../useEventStream";
import { useNoticeStream } from "../useNoticeStream";
import { PermissionNotice } from "./ErrorNotice";

interface DashboardProps {
  api: Api;
  username: string;
  role: Role;
  onUnauthenticated: () => void;
  onLogout: () => void;
}

const statusLabels: Record<StreamStatus, string> = {
  connecting: "connecting",
  live: "live",
  reconnecting: "reconnecting",
};

// The player and its terminal emulator are most of the bundle's weight and
// only this page needs them, so they load on first use.
const ReplayPage = lazy(() =>
  import("../pages/ReplayPage").then((m) => ({ default: m.ReplayPage })),
);

// Pages that cannot be opened name the role they need.
const neededRole: Partial<Record<Route["page"], Role>> = {
  replay: Role.ANALYST,
  enroll: Role.ADMIN,
  users: Role.ADMIN,
  audit: Role.ADMIN,
  webhooks: Role.ANALYST,
  settings: Role.ADMIN,
};

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export function Dashboard({ api, username, role, onUnauthenticated, onLogout }: DashboardProps) {
  const stream = useEventStream(api, onUnauthenticated);
  // Identity merges and unmerges come as notices, not events.
  const identityNotices = useNoticeStream(api, "identity.>", onUnauthenticated);
  const route = useHashRoute();
  const session = useMemo<Session>(
    () => ({ api, username, role, onUnauthenticated }),
    [api, username, role, onUnauthenticated],
  );
  const active = activeNavPage(route);

  // Moves focus to the page heading on navigation, so keyboard and screen
  // reader users start at the new content rather than in the menu.
  useEffect(() => {
    document.querySelector<HTMLElement>("main h1")?.focus();
  }, [route]);

  return (
    <SessionProvider value={session}>
      <div className="dashboard">
        <header className="topbar">
          <span className="brand">DECNET</span>
          <nav aria-label="Pages">
            {visibleNavItems(role).map((item) => (
              <a
                key={item.page}
                href={routeHash({ page: item.page } as Route)}
                className={item.page === active ? "nav-link active" : "nav-link"}
                aria-current={item.page === active ? "page" : undefined}
              >
                {item.label}
              </a>
            ))}
          </nav>
          <span className="spacer" />
          <span className={`stream-status status-${stream.status}`} title={stream.error}>
            <span className="dot" aria-hidden="true" />
            {statusLabels[stream.status]}
            {stream.status !== "live" && stream.error !== "" && (
              <span className="status-error"> — {stream.error}</span>
            )}
          </span>
          <a
            className={route.page === "account" ? "user nav-link active" : "user nav-link"}
            href={routeHash({ page: "account" })}
            title="Two-factor login and API tokens"
            aria-current={route.page === "account" ? "page" : undefined}
          >
            {username} <span className="tag">{roleLabel(role)}</span>
          </a>
          <button type="button" className="link" onClick={onLogout}>
            Log out
          </button>
        </header>
        <main className="page">
          {canOpen(role, route.page) ? (
            <PageFor route={route} stream={stream} identityVersion={identityNotices.version} />
          ) : (
            <>
              <h1 tabIndex={-1}>Not available</h1>
              <PermissionNotice role={role} needed={neededRole[route.page]} />
            </>
          )}
        </main>
      </div>
    </SessionProvider>
  );
}

function PageFor({
  route,
  stream,
  identityVersion,
}: {
  route: Route;
  stream: EventStreamState;
  identityVersion: number;
}) {
  switch (route.page) {
    case "overview":
      return <OverviewPage stream={stream} />;
    case "events":
      return <EventsPage stream={stream} />;
    case "attackers":
      return <AttackersPage eventsVersion={stream.version} />;
    case "attacker":
      return <AttackerDetailPage id={route.id} stream={stream} identityVersion={identityVersion} />;
    case "identities":
      return <IdentitiesPage identityVersion={identityVersion} />;
    case "campaigns":
      return <CampaignsPage />;
    case "replay":
      return (
        <Suspense fallback={<p className="empty">Loading the player…</p>}>
          <ReplayPage sessionId={route.sessionId} />
        </Suspense>
      );
    case "credentials":
      return <CredentialsPage stream={stream} />;
    case "fleet":
      return <FleetPage />;
    case "topology":
      return <TopologyPage />;
    case "enroll":
      return <EnrollPage />;
    case "users":
      return <UsersPage />;
    case "audit":
      return <AuditPage />;
    case "webhooks":
      return <WebhooksPage />;
    case "settings":
      return <SettingsPage />;
    case "account":
      return <AccountPage />;
  }
}
