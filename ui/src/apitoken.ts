// Choices and states of the account page's API tokens.

import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";

import { Role } from "./gen/decnet/api/v1/access_pb";
import type { ApiToken } from "./gen/decnet/api/v1/api_token_service_pb";
import { assignableRoles } from "./nav";

// A token acts with at most its creator's role; the server refuses more.
export function tokenRoleChoices(own: Role): Role[] {
  return assignableRoles.filter((r) => r <= own);
}

export interface TtlChoice {
  label: string;
  seconds: number;
}

const hour = 3600;
const day = 24 * hour;

// Lifetimes within the server's range of 1 hour to 1 year.
export const tokenTtlChoices: readonly TtlChoice[] = [
  { label: "1 hour", seconds: hour },
  { label: "1 day", seconds: day },
  { label: "7 days", seconds: 7 * day },
  { label: "30 days", seconds: 30 * day },
  { label: "90 days", seconds: 90 * day },
  { label: "1 year", seconds: 365 * day },
];

export const defaultTtlSeconds = 90 * day;

export type TokenStatus = "active" | "expired" | "revoked";

export function tokenStatus(token: ApiToken, nowMs: number): TokenStatus {
  if (token.revokedAt !== undefined) {
    return "revoked";
  }
  if (token.expiresAt !== undefined && timestampMs(token.expiresAt as Timestamp) <= nowMs) {
    return "expired";
  }
  return "active";
}

// Same rule as the server: a short label such as "siem-pull".
export function checkTokenName(name: string): string {
  const n = name.trim();
  if (n === "") {
    return "Give the token a name, such as siem-pull.";
  }
  if (n.length > 64) {
    return "The name is longer than 64 characters.";
  }
  return "";
}

// Scopes narrow a token within its role: "events:read", "webhooks:write",
// "*:read" or "*". The server checks the resource names; this only splits
// the field and catches malformed entries early.
const scopePattern = /^(\*|\*:read|[a-z][a-z-]*:(read|write))$/;

// Splits the scopes field on commas and white space, without duplicates.
// An empty field gives no scopes, which the server reads as "*".
export function parseScopes(text: string): string[] {
  const out: string[] = [];
  for (const s of text.split(/[\s,]+/)) {
    if (s !== "" && !out.includes(s)) {
      out.push(s);
    }
  }
  return out;
}

export function checkScopes(scopes: readonly string[]): string {
  const bad = scopes.find((s) => !scopePattern.test(s));
  if (bad !== undefined) {
    return `"${bad}" is not a scope: use resource:read, resource:write, *:read or *.`;
  }
  if (scopes.length > 32) {
    return "A token has at most 32 scopes.";
  }
  return "";
}

// A token listed without scopes may call everything its role allows.
export function scopesLabel(token: ApiToken): string {
  return token.scopes.length === 0 ? "*" : token.scopes.join(", ");
}
