// Pages of the dashboard, the role each needs and the hash routes that
// address them. Hash routes keep every page reachable by a link and by the
// browser's back button without any server-side routing.

import { Role } from "./gen/decnet/api/v1/access_pb";

export type Route =
  | { page: "overview" }
  | { page: "events" }
  | { page: "attackers" }
  | { page: "attacker"; id: string }
  | { page: "identities" }
  | { page: "campaigns" }
  | { page: "replay"; sessionId: string }
  | { page: "credentials" }
  | { page: "fleet" }
  | { page: "topology" }
  | { page: "enroll" }
  | { page: "users" }
  | { page: "audit" }
  | { page: "webhooks" }
  | { page: "settings" }
  | { page: "account" };

export type PageName = Route["page"];

export interface NavItem {
  page: PageName;
  label: string;
  // Lowest role that may open the page. It mirrors the access rule of the
  // procedures the page needs, so a page is never offered only to fail.
  minRole: Role;
}

export const navItems: readonly NavItem[] = [
  { page: "overview", label: "Overview", minRole: Role.VIEWER },
  { page: "events", label: "Events", minRole: Role.VIEWER },
  { page: "attackers", label: "Attackers", minRole: Role.VIEWER },
  { page: "identities", label: "Identities", minRole: Role.VIEWER },
  { page: "campaigns", label: "Campaigns", minRole: Role.VIEWER },
  { page: "credentials", label: "Credentials", minRole: Role.VIEWER },
  { page: "fleet", label: "Fleet", minRole: Role.VIEWER },
  { page: "topology", label: "Topology", minRole: Role.VIEWER },
  { page: "webhooks", label: "Webhooks", minRole: Role.ANALYST },
  { page: "enroll", label: "Enroll", minRole: Role.ADMIN },
  { page: "users", label: "Users", minRole: Role.ADMIN },
  { page: "audit", label: "Audit log", minRole: Role.ADMIN },
  { page: "settings", label: "Settings", minRole: Role.ADMIN },
];

// Minimum role per page, including pages that have no navigation entry.
const pageMinRole: Record<PageName, Role> = {
  overview: Role.VIEWER,
  events: Role.VIEWER,
  attackers: Role.VIEWER,
  attacker: Role.VIEWER,
  identities: Role.VIEWER,
  campaigns: Role.VIEWER,
  // GetSessionRecording is for analysts: viewers do not see session content.
  replay: Role.ANALYST,
  credentials: Role.VIEWER,
  fleet: Role.VIEWER,
  // Everyone reads the topology; SetAgentConfig, behind its edit button,
  // is for admins.
  topology: Role.VIEWER,
  enroll: Role.ADMIN,
  users: Role.ADMIN,
  audit: Role.ADMIN,
  // Dead letters hold notices, so ListWebhookDeadLetters is for analysts;
  // the page offers changes to admins only.
  webhooks: Role.ANALYST,
  settings: Role.ADMIN,
  // Everyone manages their own second factor and API tokens.
  account: Role.VIEWER,
};

// Reports whether role may open page. Roles compare by rank, so an
// unspecified role opens no page. The server enforces the real rule either
// way.
export function canOpen(role: Role, page: PageName): boolean {
  return role >= pageMinRole[page];
}

export function visibleNavItems(role: Role): NavItem[] {
  return navItems.filter((item) => canOpen(role, item.page));
}

export function roleLabel(role: Role): string {
  switch (role) {
    case Role.VIEWER:
      return "viewer";
    case Role.ANALYST:
      return "analyst";
    case Role.ADMIN:
      return "admin";
    default:
      return "unknown";
  }
}

export const assignableRoles: readonly Role[] = [Role.VIEWER, Role.ANALYST, Role.ADMIN];

// Parses location.hash ("#/attackers/ID"). Anything unknown is the
// overview, so a stale bookmark still lands somewhere useful.
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(safeDecode);
  const [head = "", arg = ""] = parts;
  switch (head) {
    case "attackers":
      return arg === "" ? { page: "attackers" } : { page: "attacker", id: arg };
    case "replay":
      return arg === "" ? { page: "overview" } : { page: "replay", sessionId: arg };
    case "events":
    case "identities":
    case "campaigns":
    case "credentials":
    case "fleet":
    case "topology":
    case "enroll":
    case "users":
    case "audit":
    case "webhooks":
    case "settings":
    case "account":
      return { page: head };
    default:
      return { page: "overview" };
  }
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return "";
  }
}

export function routeHash(route: Route): string {
  switch (route.page) {
    case "attacker":
      return `#/attackers/${encodeURIComponent(route.id)}`;
    case "replay":
      return `#/replay/${encodeURIComponent(route.sessionId)}`;
    default:
      return `#/${route.page}`;
  }
}

// Navigation entry that is highlighted for route: a detail page belongs to
// its list.
export function activeNavPage(route: Route): PageName {
  switch (route.page) {
    case "attacker":
    case "replay":
      return "attackers";
    default:
      return route.page;
  }
}
