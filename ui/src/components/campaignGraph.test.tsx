// The campaign graph and the details of one of its identities, rendered
// to static markup, and the keys that select a node.

import { create } from "@bufbuild/protobuf";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it, vi } from "vitest";

import { layoutCampaignGraph } from "../campaignGraph";
import { CampaignSchema } from "../gen/decnet/api/v1/campaign_service_pb";
import { CampaignGraphView, CampaignIdentityDetails } from "./CampaignGraph";
import { selectOnKey } from "./IdentityGraph";

const identityA = "01a24393-0000-7000-8000-0000000000a1";
const identityB = "01a24393-0000-7000-8000-0000000000b2";
const attackerC = "01a24393-0000-7000-8000-0000000000c3";
const attackerD = "01a24393-0000-7000-8000-0000000000d4";
const campaign = create(CampaignSchema, {
  id: "01a24393-0d98-7695-a577-625ac27dc978",
  identityIds: [identityA, identityB],
  attackerIds: [attackerC, attackerD],
  members: [
    { identityId: identityA, attackerIds: [attackerC] },
    { identityId: identityB, attackerIds: [attackerD] },
  ],
  evidence: [
    {
      identityId: identityA,
      otherIdentityId: identityB,
      score: 1.5,
      terms: [{ kind: "infrastructure", score: 1, detail: "c2:files.example:8080" }],
    },
  ],
});
const noop = () => undefined;

describe("campaign graph", () => {
  const graph = layoutCampaignGraph([campaign]);
  const html = renderToStaticMarkup(<CampaignGraphView graph={graph} selectedKey="" onSelect={noop} />);

  it("makes campaigns and identities focusable buttons", () => {
    expect(html.match(/role="button"/g)).toHaveLength(3);
    expect(html.match(/tabindex="0"/g)).toHaveLength(3);
    expect(html).toContain('aria-label="Campaign c27dc978, 2 identities, 2 attackers"');
    expect(html).toContain('aria-label="Identity 000000a1 of campaign c27dc978, 1 attacker"');
  });

  it("links attackers to their pages, labelled with their short ids", () => {
    expect(html).toContain(`href="#/attackers/${attackerC}"`);
    expect(html).toContain(`href="#/attackers/${attackerD}"`);
    expect(html).toContain(">000000c3</text>");
    expect(html.match(/<line /g)).toHaveLength(4);
  });

  it("puts each identity's attackers right after it in tab order", () => {
    const order = [...html.matchAll(/aria-label="(Campaign|Identity|Attacker) ([0-9a-f]{8})\b/g)].map((m) => m[2]);
    expect(order).toEqual(["c27dc978", "000000a1", "000000c3", "000000b2", "000000d4"]);
  });

  it("marks the selected identity and its edges", () => {
    const key = `${campaign.id}/${identityA}`;
    const selected = renderToStaticMarkup(<CampaignGraphView graph={graph} selectedKey={key} onSelect={noop} />);
    expect(selected.match(/aria-pressed="true"/g)).toHaveLength(1);
    expect(selected).toContain('class="identity-node selected"');
    // The edge from its campaign and the one to its attacker.
    expect(selected.match(/class="edge selected"/g)).toHaveLength(2);
  });

  it("marks the selected campaign and the edges to its identities", () => {
    const selected = renderToStaticMarkup(<CampaignGraphView graph={graph} selectedKey={campaign.id} onSelect={noop} />);
    expect(selected).toContain('class="campaign-node selected"');
    expect(selected.match(/class="edge selected"/g)).toHaveLength(2);
  });
});

describe("node keys", () => {
  it("selects on Enter and Space and lets other keys through", () => {
    const onSelect = vi.fn();
    const handle = selectOnKey(onSelect);
    for (const key of ["Enter", " ", "Tab", "a"]) {
      const preventDefault = vi.fn();
      handle({ key, preventDefault });
      const selects = key === "Enter" || key === " ";
      expect(preventDefault).toHaveBeenCalledTimes(selects ? 1 : 0);
    }
    expect(onSelect).toHaveBeenCalledTimes(2);
  });
});

describe("campaign identity details", () => {
  it("lists the identity's attackers and the evidence tying it to others", () => {
    const html = renderToStaticMarkup(
      <CampaignIdentityDetails campaign={campaign} identityId={identityB} onSelectCampaign={noop} />,
    );
    expect(html).toContain(identityB);
    expect(html).toContain(`href="#/attackers/${attackerD}"`);
    expect(html).not.toContain(`href="#/attackers/${attackerC}"`);
    expect(html).toContain("000000a1");
    expect(html).toContain("1.50: shared infrastructure");
    expect(html).toContain('href="#/identities"');
  });
});
