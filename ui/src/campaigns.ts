// Loading and summarising campaigns for the Campaigns page.

import type { Campaign, CampaignEvidence } from "./gen/decnet/api/v1/campaign_service_pb";

// Campaigns per request; the server caps page_size at 1000.
export const campaignPageSize = 100;

export interface CampaignPage {
  campaigns: Campaign[];
  nextPageToken: string;
}

export interface LoadedCampaigns {
  campaigns: Campaign[];
  // True when the server has more campaigns than the pages loaded.
  more: boolean;
}

// Loads the first pages of campaigns, following next_page_token, and
// stops early at the last page. fetchPage is
// CampaignService.ListCampaigns.
export async function loadCampaigns(
  fetchPage: (req: { pageSize: number; pageToken: string }) => Promise<CampaignPage>,
  pages: number,
): Promise<LoadedCampaigns> {
  const campaigns: Campaign[] = [];
  let pageToken = "";
  for (let loaded = 0; loaded < pages; loaded++) {
    const page = await fetchPage({ pageSize: campaignPageSize, pageToken });
    campaigns.push(...page.campaigns);
    pageToken = page.nextPageToken;
    if (pageToken === "") {
      break;
    }
  }
  // A position token can return a campaign twice when it shrank between
  // two requests, so the first copy is kept.
  const seen = new Set<string>();
  const unique = campaigns.filter((c) => {
    if (seen.has(c.id)) {
      return false;
    }
    seen.add(c.id);
    return true;
  });
  return { campaigns: unique, more: pageToken !== "" };
}

// Display names of the evidence kinds the server sends, in the order the
// page lists them. An unknown kind shows under its own name, last.
const kindLabels: readonly (readonly [string, string])[] = [
  ["handoff", "phase hand-off"],
  ["credential", "handed-over credential"],
  ["infrastructure", "shared infrastructure"],
  ["cohort", "cohort"],
  ["overlap", "temporal overlap"],
];

export function evidenceKindLabel(kind: string): string {
  return kindLabels.find(([k]) => k === kind)?.[1] ?? kind;
}

function kindRank(kind: string): number {
  const i = kindLabels.findIndex(([k]) => k === kind);
  return i < 0 ? kindLabels.length : i;
}

export interface EvidenceKindCount {
  kind: string;
  label: string;
  // Number of identity pairs with a term of this kind.
  pairs: number;
}

// Counts the identity pairs behind a campaign per evidence kind, in the
// order of kindLabels, then by kind name.
export function evidenceKinds(evidence: readonly CampaignEvidence[]): EvidenceKindCount[] {
  const pairs = new Map<string, number>();
  for (const e of evidence) {
    for (const kind of new Set(e.terms.map((t) => t.kind))) {
      pairs.set(kind, (pairs.get(kind) ?? 0) + 1);
    }
  }
  return [...pairs.entries()]
    .map(([kind, n]) => ({ kind, label: evidenceKindLabel(kind), pairs: n }))
    .sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.kind.localeCompare(b.kind));
}

// Formats an evidence score with two decimals; pairs join at 1.00.
export function formatScore(score: number): string {
  return score.toFixed(2);
}
