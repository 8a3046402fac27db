// Loading of the identity list for the Identities page.

import type { AttackerIdentity } from "./gen/decnet/api/v1/identity_service_pb";

// Identities per request; the server caps page_size at 1000.
export const identityPageSize = 100;

// Choices for the minimum attackers per identity. At 1, every attacker
// with a session shows, most of them alone in their identity.
export const minAttackerChoices: readonly number[] = [1, 2, 3, 5, 10];

export interface IdentityPage {
  identities: AttackerIdentity[];
  nextPageToken: string;
}

export interface LoadedIdentities {
  identities: AttackerIdentity[];
  // True when the server has more identities than the pages loaded.
  more: boolean;
}

// Loads the first pages of identities with at least minAttackers
// attackers, following next_page_token, and stops early at the last page.
// fetchPage is IdentityService.ListIdentities.
export async function loadIdentities(
  fetchPage: (req: { pageSize: number; pageToken: string; minAttackers: number }) => Promise<IdentityPage>,
  minAttackers: number,
  pages: number,
): Promise<LoadedIdentities> {
  const identities: AttackerIdentity[] = [];
  let pageToken = "";
  for (let loaded = 0; loaded < pages; loaded++) {
    const page = await fetchPage({ pageSize: identityPageSize, pageToken, minAttackers });
    identities.push(...page.identities);
    pageToken = page.nextPageToken;
    if (pageToken === "") {
      break;
    }
  }
  // A position token can return an identity twice when it shrank between
  // two requests, so the first copy is kept.
  const seen = new Set<string>();
  const unique: AttackerIdentity[] = [];
  for (const identity of identities) {
    if (!seen.has(identity.id)) {
      seen.add(identity.id);
      unique.push(identity);
    }
  }
  return { identities: unique, more: pageToken !== "" };
}
