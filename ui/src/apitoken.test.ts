import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { checkScopes, checkTokenName, parseScopes, scopesLabel, tokenRoleChoices, tokenStatus } from "./apitoken";
import { Role } from "./gen/decnet/api/v1/access_pb";
import { ApiTokenSchema } from "./gen/decnet/api/v1/api_token_service_pb";

describe("API tokens", () => {
  it("offers no role above the caller's", () => {
    expect(tokenRoleChoices(Role.VIEWER)).toEqual([Role.VIEWER]);
    expect(tokenRoleChoices(Role.ANALYST)).toEqual([Role.VIEWER, Role.ANALYST]);
    expect(tokenRoleChoices(Role.ADMIN)).toEqual([Role.VIEWER, Role.ANALYST, Role.ADMIN]);
  });

  it("tells active, expired and revoked tokens apart", () => {
    const now = 1_800_000_000_000;
    const active = create(ApiTokenSchema, { expiresAt: timestampFromMs(now + 1000) });
    const expired = create(ApiTokenSchema, { expiresAt: timestampFromMs(now - 1000) });
    const revoked = create(ApiTokenSchema, { expiresAt: timestampFromMs(now + 1000), revokedAt: timestampFromMs(now - 5) });
    expect(tokenStatus(active, now)).toBe("active");
    expect(tokenStatus(expired, now)).toBe("expired");
    expect(tokenStatus(revoked, now)).toBe("revoked");
  });

  it("checks the name as the server does", () => {
    expect(checkTokenName("siem-pull")).toBe("");
    expect(checkTokenName("  ")).not.toBe("");
    expect(checkTokenName("x".repeat(65))).toContain("64");
  });

  it("splits the scopes field on commas and spaces without duplicates", () => {
    expect(parseScopes("")).toEqual([]);
    expect(parseScopes(" events:read, attackers:read  events:read\nwebhooks:write ")).toEqual([
      "events:read",
      "attackers:read",
      "webhooks:write",
    ]);
  });

  it("catches malformed scopes", () => {
    expect(checkScopes(["*", "*:read", "api-tokens:write", "events:read"])).toBe("");
    expect(checkScopes(["events"])).toContain('"events"');
    expect(checkScopes(["events:admin"])).toContain('"events:admin"');
    expect(checkScopes(["*:write"])).toContain('"*:write"');
    expect(checkScopes(Array.from({ length: 33 }, () => "events:read"))).toContain("32");
  });

  it("shows a token without scopes as allowed everything", () => {
    expect(scopesLabel(create(ApiTokenSchema, {}))).toBe("*");
    expect(scopesLabel(create(ApiTokenSchema, { scopes: ["events:read", "attackers:read"] }))).toBe(
      "events:read, attackers:read",
    );
  });
});
