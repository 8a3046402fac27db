import { describe, expect, it } from "vitest";

import {
  campaignMembers,
  campaignRadius,
  campaignSummary,
  layoutCampaignGraph,
  type CampaignGraph,
  type CampaignInput,
} from "./campaignGraph";
import { attackerRadius, identityRadius } from "./identityGraph";

const uuid = (prefix: string, n: number) => `${prefix}-0000-7000-8000-${n.toString().padStart(12, "0")}`;

// campaign builds a campaign whose identities have the given numbers of
// attackers. Attacker ids are unique unless shared names one that the
// first two identities both have.
function campaign(n: number, attackersPerIdentity: readonly number[], shared?: string): CampaignInput {
  const members = attackersPerIdentity.map((count, i) => ({
    identityId: uuid("0195a1b2", n * 100 + i),
    attackerIds: Array.from({ length: count }, (_, k) => uuid("01a24393", n * 10_000 + i * 100 + k)),
  }));
  if (shared !== undefined) {
    members.slice(0, 2).forEach((m) => m.attackerIds.push(shared));
  }
  const attackerIds = [...new Set(members.flatMap((m) => m.attackerIds))].sort();
  return { id: uuid("01a24400", n), identityIds: members.map((m) => m.identityId), attackerIds, members };
}

// The fixture: a large campaign with an identity beyond maxAttackers, a
// small one, one with an attacker in two identities, and one from a
// server that sends no members.
const fixture: CampaignInput[] = [
  campaign(1, [12, 3, 0, 5]),
  campaign(2, [1, 1]),
  campaign(3, [2, 2, 1], "01a24393-0000-7000-8000-00000000beef"),
  { ...campaign(4, [2, 2]), members: [] },
];

interface Circle {
  key: string;
  x: number;
  y: number;
  r: number;
}

function circles(graph: CampaignGraph): Circle[] {
  return [
    ...graph.campaigns.map((n) => ({ key: n.key, x: n.x, y: n.y, r: campaignRadius })),
    ...graph.identities.map((n) => ({ key: n.key, x: n.x, y: n.y, r: identityRadius })),
    ...graph.attackers.map((n) => ({ key: n.key, x: n.x, y: n.y, r: attackerRadius })),
    ...graph.overflows.map((n) => ({ key: n.key, x: n.x, y: n.y, r: attackerRadius })),
  ];
}

describe("campaign graph layout", () => {
  const graph = layoutCampaignGraph(fixture, { maxAttackers: 8 });

  it("draws nothing for no campaigns", () => {
    const empty = layoutCampaignGraph([]);
    expect(empty.campaigns).toEqual([]);
    expect(empty.edges).toEqual([]);
    expect(empty.height).toBe(0);
  });

  it("has a node per campaign, member and shown attacker", () => {
    expect(graph.campaigns.map((c) => c.summary)).toEqual([
      "4 identities, 20 attackers",
      "2 identities, 2 attackers",
      "3 identities, 6 attackers",
      "2 identities, 4 attackers",
    ]);
    expect(graph.identities).toHaveLength(4 + 2 + 3 + 2);
    // 8 of 12 and an overflow node, 3, 5; 1, 1; 3, 3, 1; none.
    expect(graph.attackers).toHaveLength(8 + 3 + 5 + 2 + 7);
    expect(graph.overflows).toEqual([expect.objectContaining({ hidden: 4, identityId: uuid("0195a1b2", 100) })]);
  });

  it("is deterministic", () => {
    const copy = fixture.map((c) => ({ ...c, members: c.members.map((m) => ({ ...m })) }));
    expect(layoutCampaignGraph(copy, { maxAttackers: 8 })).toEqual(graph);
  });

  it("gives every node a key of its own", () => {
    const keys = circles(graph).map((c) => c.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("draws an attacker of two identities under each", () => {
    const shared = graph.attackers.filter((a) => a.attackerId === "01a24393-0000-7000-8000-00000000beef");
    expect(shared.map((a) => a.identityId)).toEqual([uuid("0195a1b2", 300), uuid("0195a1b2", 301)]);
  });

  it("overlaps no two nodes", () => {
    const all = circles(graph);
    all.forEach((a, i) => {
      for (const b of all.slice(i + 1)) {
        const gap = Math.hypot(a.x - b.x, a.y - b.y) - a.r - b.r;
        expect(gap, `${a.key} and ${b.key}`).toBeGreaterThan(0);
      }
    });
  });

  it("keeps labels clear of other campaigns and identities", () => {
    // Each title and summary line sits within its own node's block: above
    // the next node of the same column and below the one before.
    for (const column of [graph.campaigns, graph.identities]) {
      column.slice(1).forEach((node, i) => {
        const before = column[i];
        expect(before?.summaryY).toBeLessThan(node.titleY - 11);
      });
    }
  });

  it("keeps every node inside the drawing", () => {
    for (const c of circles(graph)) {
      expect(c.x - c.r).toBeGreaterThanOrEqual(0);
      expect(c.x + c.r).toBeLessThanOrEqual(graph.width);
      expect(c.y - c.r).toBeGreaterThanOrEqual(0);
      expect(c.y + c.r).toBeLessThanOrEqual(graph.height);
    }
    for (const c of graph.campaigns) {
      expect(c.titleY - 12).toBeGreaterThanOrEqual(0);
      expect(c.summaryY).toBeLessThanOrEqual(graph.height);
    }
  });

  it("joins only nodes that exist, at their centres", () => {
    const byKey = new Map(circles(graph).map((c) => [c.key, c]));
    for (const e of graph.edges) {
      const from = byKey.get(e.from);
      const to = byKey.get(e.to);
      expect(from, `edge ${e.key} from ${e.from}`).toBeDefined();
      expect(to, `edge ${e.key} to ${e.to}`).toBeDefined();
      expect([e.x1, e.y1, e.x2, e.y2]).toEqual([from?.x, from?.y, to?.x, to?.y]);
    }
    // One edge per member and per attacker or overflow node.
    expect(graph.edges).toHaveLength(graph.identities.length + graph.attackers.length + graph.overflows.length);
    expect(new Set(graph.edges.map((e) => e.key)).size).toBe(graph.edges.length);
  });

  it("links campaigns to their members and members to their attackers", () => {
    for (const m of graph.identities) {
      expect(graph.edges.filter((e) => e.to === m.key).map((e) => e.from)).toEqual([m.campaignId]);
    }
    for (const a of graph.attackers) {
      const parent = graph.identities.find((m) => a.key.startsWith(`${m.key}/`));
      expect(parent?.identityId).toBe(a.identityId);
      expect(graph.edges.filter((e) => e.to === a.key).map((e) => e.from)).toEqual([parent?.key]);
    }
  });

  it("centres each campaign on its members", () => {
    for (const c of graph.campaigns) {
      const ys = graph.identities.filter((m) => m.campaignId === c.campaignId).map((m) => m.y);
      expect(Math.abs(c.y - (Math.min(...ys) + Math.max(...ys)) / 2)).toBeLessThanOrEqual(0.1);
    }
  });

  it("fits a laptop screen's width", () => {
    expect(graph.width).toBeLessThanOrEqual(640);
  });
});

describe("campaign members", () => {
  it("follows identity_ids and fills in missing members", () => {
    const c: CampaignInput = {
      id: "c",
      identityIds: ["a", "b"],
      attackerIds: ["x"],
      members: [{ identityId: "b", attackerIds: ["x"] }],
    };
    expect(campaignMembers(c)).toEqual([
      { identityId: "a", attackerIds: [] },
      { identityId: "b", attackerIds: ["x"] },
    ]);
  });
});

describe("campaign summary", () => {
  it("uses singular and plural", () => {
    expect(campaignSummary(2, 1)).toBe("2 identities, 1 attacker");
    expect(campaignSummary(1, 3)).toBe("1 identity, 3 attackers");
  });
});
