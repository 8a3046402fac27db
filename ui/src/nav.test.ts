import { describe, expect, it } from "vitest";

import { Role } from "./gen/decnet/api/v1/access_pb";
import { activeNavPage, canOpen, parseRoute, routeHash, visibleNavItems, type Route } from "./nav";

describe("role gating", () => {
  const cases: { role: Role; pages: string[] }[] = [
    { role: Role.UNSPECIFIED, pages: [] },
    { role: Role.VIEWER, pages: ["overview", "events", "attackers", "identities", "campaigns", "credentials", "fleet", "topology"] },
    {
      role: Role.ANALYST,
      pages: ["overview", "events", "attackers", "identities", "campaigns", "credentials", "fleet", "topology", "webhooks"],
    },
    {
      role: Role.ADMIN,
      pages: [
        "overview",
        "events",
        "attackers",
        "identities",
        "campaigns",
        "credentials",
        "fleet",
        "topology",
        "webhooks",
        "enroll",
        "users",
        "audit",
        "settings",
      ],
    },
  ];
  for (const c of cases) {
    it(`shows ${Role[c.role]} only the pages of its role`, () => {
      expect(visibleNavItems(c.role).map((i) => i.page)).toEqual(c.pages);
    });
  }

  it("keeps replay from viewers, as GetSessionRecording does", () => {
    expect(canOpen(Role.VIEWER, "replay")).toBe(false);
    expect(canOpen(Role.ANALYST, "replay")).toBe(true);
  });

  it("keeps admin pages from analysts", () => {
    expect(canOpen(Role.ANALYST, "users")).toBe(false);
    expect(canOpen(Role.ANALYST, "enroll")).toBe(false);
    expect(canOpen(Role.ANALYST, "audit")).toBe(false);
    expect(canOpen(Role.ANALYST, "settings")).toBe(false);
    expect(canOpen(Role.ADMIN, "users")).toBe(true);
    expect(canOpen(Role.ADMIN, "settings")).toBe(true);
  });

  it("gates webhooks and account pages", () => {
    expect(canOpen(Role.VIEWER, "webhooks")).toBe(false);
    expect(canOpen(Role.ANALYST, "webhooks")).toBe(true);
    expect(canOpen(Role.VIEWER, "account")).toBe(true);
    expect(canOpen(Role.UNSPECIFIED, "account")).toBe(false);
  });
});

describe("hash routes", () => {
  const routes: Route[] = [
    { page: "overview" },
    { page: "events" },
    { page: "attackers" },
    { page: "attacker", id: "01a24393-0d98-7695-a577-625ac27dc978" },
    { page: "identities" },
    { page: "campaigns" },
    { page: "replay", sessionId: "s/1 2" },
    { page: "credentials" },
    { page: "fleet" },
    { page: "topology" },
    { page: "enroll" },
    { page: "users" },
    { page: "audit" },
    { page: "webhooks" },
    { page: "settings" },
    { page: "account" },
  ];
  for (const route of routes) {
    it(`round-trips ${JSON.stringify(route)}`, () => {
      expect(parseRoute(routeHash(route))).toEqual(route);
    });
  }

  it("sends unknown and malformed hashes to the overview", () => {
    expect(parseRoute("")).toEqual({ page: "overview" });
    expect(parseRoute("#/nope")).toEqual({ page: "overview" });
    expect(parseRoute("#/replay/")).toEqual({ page: "overview" });
    expect(parseRoute("#/attackers/%E0%A4%A")).toEqual({ page: "attackers" });
  });

  it("highlights the list for its detail pages", () => {
    expect(activeNavPage({ page: "attacker", id: "x" })).toBe("attackers");
    expect(activeNavPage({ page: "replay", sessionId: "x" })).toBe("attackers");
    expect(activeNavPage({ page: "users" })).toBe("users");
  });
});
