// The campaign table and details rendered to static markup.

import { create } from "@bufbuild/protobuf";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { CampaignSchema } from "../gen/decnet/api/v1/campaign_service_pb";
import { CampaignDetails, CampaignsEmpty, CampaignTable } from "./CampaignsPage";

const campaign = create(CampaignSchema, {
  id: "01a24393-0d98-7695-a577-625ac27dc978",
  identityIds: ["01a24393-0000-7000-8000-0000000000a1", "01a24393-0000-7000-8000-0000000000b2"],
  attackerIds: ["01a24393-0000-7000-8000-0000000000c3"],
  firstSeen: { seconds: 1772409600n },
  lastSeen: { seconds: 1772413200n },
  evidence: [
    {
      identityId: "01a24393-0000-7000-8000-0000000000a1",
      otherIdentityId: "01a24393-0000-7000-8000-0000000000b2",
      score: 2,
      terms: [
        { kind: "handoff", score: 1, detail: "web01/ssh, scan then brute" },
        { kind: "infrastructure", score: 1, detail: "c2:files.example:8080" },
      ],
    },
  ],
});

describe("campaign table", () => {
  const html = renderToStaticMarkup(<CampaignTable campaigns={[campaign]} selectedId="" onSelect={() => {}} />);

  it("shows counts, times and evidence kinds", () => {
    expect(html).toContain("c27dc978");
    expect(html).toContain('<td class="num">2</td><td class="num">1</td>');
    expect(html).toContain("2026-03-02 00:00:00");
    expect(html).toContain("2026-03-02 01:00:00");
    expect(html).toContain("phase hand-off");
    expect(html).toContain("shared infrastructure");
  });
});

describe("campaign details", () => {
  const html = renderToStaticMarkup(<CampaignDetails campaign={campaign} />);

  it("links attackers to their pages and identities to the list", () => {
    expect(html).toContain('href="#/attackers/01a24393-0000-7000-8000-0000000000c3"');
    expect(html).toContain('href="#/identities"');
  });

  it("lists each term with its score and detail", () => {
    expect(html).toContain("2.00");
    expect(html).toContain("web01/ssh, scan then brute");
    expect(html).toContain("c2:files.example:8080");
  });
});

describe("campaigns empty state", () => {
  it("explains what forms a campaign", () => {
    const html = renderToStaticMarkup(<CampaignsEmpty />);
    expect(html).toContain("No campaigns yet.");
    expect(html).toContain('href="#/identities"');
  });
});
