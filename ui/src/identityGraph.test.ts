import { describe, expect, it } from "vitest";

import {
  attackerRadius,
  identitySummary,
  layoutIdentityGraph,
  ringCapacities,
  ringPositions,
  type IdentityInput,
} from "./identityGraph";

function identity(n: number, attackers: number, sessions = attackers): IdentityInput {
  const id = `0195a1b2-0000-7000-8000-${n.toString().padStart(12, "0")}`;
  const attackerIds = Array.from({ length: attackers }, (_, k) => `01a24393-0000-7000-8000-${(n * 1000 + k).toString().padStart(12, "0")}`);
  return { id, attackerIds, sessions };
}

// first returns the first item of items, failing the test when it is empty.
function first<T>(items: readonly T[]): T {
  const item = items[0];
  if (item === undefined) {
    throw new Error("no items");
  }
  return item;
}

describe("ring capacities", () => {
  it("puts a few attackers on one ring", () => {
    expect(ringCapacities(0)).toEqual([]);
    expect(ringCapacities(1)).toEqual([1]);
    expect(ringCapacities(16)).toEqual([16]);
  });

  it("opens a second ring when the first is full", () => {
    expect(ringCapacities(17)).toEqual([16, 1]);
    expect(ringCapacities(31)).toEqual([16, 15]);
  });
});

describe("ring positions", () => {
  it("starts at the top and goes clockwise", () => {
    expect(ringPositions(4, 100, 100)).toEqual([
      { x: 100, y: 38 },
      { x: 162, y: 100 },
      { x: 100, y: 162 },
      { x: 38, y: 100 },
    ]);
  });

  it("keeps attackers on one ring apart", () => {
    const points = ringPositions(16, 0, 0);
    points.slice(1).forEach((b, k) => {
      const a = points[k] ?? b;
      expect(Math.hypot(b.x - a.x, b.y - a.y)).toBeGreaterThan(2 * attackerRadius);
    });
  });
});

describe("identity graph layout", () => {
  it("draws nothing for no identities", () => {
    const graph = layoutIdentityGraph([]);
    expect(graph.identities).toEqual([]);
    expect(graph.edges).toEqual([]);
    expect(graph.height).toBe(0);
  });

  it("links each identity to its attackers", () => {
    const graph = layoutIdentityGraph([identity(1, 3, 5), identity(2, 1)]);
    expect(graph.identities.map((n) => n.summary)).toEqual(["3 attackers, 5 sessions", "1 attacker, 1 session"]);
    expect(graph.attackers).toHaveLength(4);
    expect(graph.edges).toHaveLength(4);
    for (const a of graph.attackers) {
      const owner = graph.identities.find((n) => n.id === a.identityId);
      const edge = graph.edges.find((e) => e.key === a.key);
      expect(edge).toEqual({ key: a.key, from: owner?.id, to: a.key, x1: owner?.x, y1: owner?.y, x2: a.x, y2: a.y });
    }
  });

  it("labels nodes with the short ids of the dashboard", () => {
    const graph = layoutIdentityGraph([identity(7, 1, 2)]);
    const node = first(graph.identities);
    expect(node.title).toBe("00000007");
    expect(node.ariaLabel).toBe("Identity 00000007, 1 attacker, 2 sessions");
    expect(first(graph.attackers).label).toBe("00007000");
    expect(first(graph.attackers).ariaLabel).toContain("open the attacker page");
  });

  it("fills rows of the given columns", () => {
    const graph = layoutIdentityGraph([1, 2, 3, 4, 5].map((n) => identity(n, 2)), { columns: 2, maxAttackers: 30 });
    const rows = [...new Set(graph.identities.map((n) => n.y))];
    const columns = [...new Set(graph.identities.map((n) => n.x))];
    expect(rows).toHaveLength(3);
    expect(columns).toHaveLength(2);
    expect(graph.identities.map((n) => [columns.indexOf(n.x), rows.indexOf(n.y)])).toEqual([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [0, 2],
    ]);
  });

  it("keeps every node inside the drawing", () => {
    const graph = layoutIdentityGraph([identity(1, 40), identity(2, 1), identity(3, 17), identity(4, 2), identity(5, 5)]);
    for (const a of graph.attackers) {
      expect(a.x - attackerRadius).toBeGreaterThanOrEqual(0);
      expect(a.x + attackerRadius).toBeLessThanOrEqual(graph.width);
      expect(a.y - attackerRadius).toBeGreaterThanOrEqual(0);
      expect(a.y + attackerRadius).toBeLessThanOrEqual(graph.height);
    }
    for (const n of graph.identities) {
      // The labels sit above the top ring of the row, below the row above.
      const rowMates = new Set(graph.identities.filter((m) => m.y === n.y).map((m) => m.id));
      const rowTop = Math.min(...graph.attackers.filter((a) => rowMates.has(a.identityId)).map((a) => a.y - attackerRadius));
      const above = graph.attackers.filter((a) => a.y < n.y && !rowMates.has(a.identityId)).map((a) => a.y + attackerRadius);
      expect(n.summaryY).toBeLessThan(rowTop);
      expect(n.titleY).toBeGreaterThan(Math.max(0, ...above));
    }
  });

  it("counts attackers beyond the maximum on an overflow node", () => {
    const graph = layoutIdentityGraph([identity(1, 12)], { columns: 4, maxAttackers: 10 });
    expect(graph.attackers).toHaveLength(10);
    expect(graph.overflows).toEqual([expect.objectContaining({ identityId: first(graph.identities).id, hidden: 2 })]);
    expect(graph.edges).toHaveLength(11);
    expect(first(graph.identities).summary).toBe("12 attackers, 12 sessions");
  });

  it("is deterministic", () => {
    const input = [identity(1, 20, 30), identity(2, 3), identity(3, 1)];
    expect(layoutIdentityGraph(input)).toEqual(layoutIdentityGraph(input.map((i) => ({ ...i }))));
  });

  it("keys an attacker under each identity it belongs to", () => {
    const shared = "01a24393-0000-7000-8000-00000000beef";
    const graph = layoutIdentityGraph([
      { id: "i-1", attackerIds: [shared], sessions: 1 },
      { id: "i-2", attackerIds: [shared], sessions: 1 },
    ]);
    const keys = graph.attackers.map((a) => a.key);
    expect(new Set(keys).size).toBe(2);
  });
});

describe("identity summary", () => {
  it("uses singular and plural", () => {
    expect(identitySummary(1, 1)).toBe("1 attacker, 1 session");
    expect(identitySummary(2, 0)).toBe("2 attackers, 0 sessions");
  });
});
