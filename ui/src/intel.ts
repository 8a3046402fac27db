// Presentation of threat-intel reports on the attacker page.

import {
  IntelVerdict,
  type GetAttackerIntelResponse,
  type IntelLocation,
  type IntelReport,
} from "./gen/decnet/api/v1/intel_service_pb";

export const skippedNoProvider = "no provider configured";
export const skippedNonPublic = "non-public address";

export function verdictLabel(v: IntelVerdict): string {
  switch (v) {
    case IntelVerdict.BENIGN:
      return "benign";
    case IntelVerdict.SUSPICIOUS:
      return "suspicious";
    case IntelVerdict.MALICIOUS:
      return "malicious";
    default:
      return "unknown";
  }
}

export type IntelView =
  | { kind: "no-provider" }
  | { kind: "no-address" }
  | { kind: "reports"; verdict: IntelVerdict; reports: IntelReport[] };

// Returns what the panel shows. Without a provider the server still returns
// a report per address, each skipped for that reason. That case gets an
// explanation of how to configure one instead of a table of nothing.
export function intelView(res: Pick<GetAttackerIntelResponse, "verdict" | "reports">): IntelView {
  if (res.reports.length === 0) {
    return { kind: "no-address" };
  }
  if (res.reports.every((r) => r.skipped === skippedNoProvider)) {
    return { kind: "no-provider" };
  }
  return { kind: "reports", verdict: res.verdict, reports: res.reports };
}

// "Paris, France (FR) · AS64500 Example Org · 198.51.100.0/24", or "" when
// the server has no location database.
export function formatLocation(loc: IntelLocation | undefined): string {
  if (loc === undefined) {
    return "";
  }
  const place = [loc.city, loc.country].filter((s) => s !== "").join(", ");
  let where = place;
  if (loc.countryCode !== "") {
    where = place === "" ? loc.countryCode : `${place} (${loc.countryCode})`;
  }
  const as = loc.asn !== 0 ? `AS${loc.asn}${loc.asOrg !== "" ? ` ${loc.asOrg}` : ""}` : loc.asOrg;
  return [where, as, loc.network].filter((s) => s !== "").join(" · ");
}

// Evidence entries in a stable order, so a refresh does not reshuffle them.
export function evidenceEntries(evidence: Record<string, string>): [string, string][] {
  return Object.entries(evidence).sort(([a], [b]) => a.localeCompare(b));
}

// The provider's page for the address, when it is an https URL. Anything
// else is dropped rather than turned into a link.
export function providerLink(link: string): string {
  try {
    return new URL(link).protocol === "https:" ? link : "";
  } catch {
    return "";
  }
}

// Explains why an address was not looked up.
export function skippedText(skipped: string): string {
  switch (skipped) {
    case skippedNonPublic:
      return "not looked up: a private or loopback address (--intel-lookup-non-public sends those too)";
    case skippedNoProvider:
      return "not looked up: no provider configured";
    default:
      return `not looked up: ${skipped}`;
  }
}
