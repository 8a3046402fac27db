// Layout of the identity graph: each identity is a node on a grid, with
// its attackers on rings around it. The layout depends only on the input
// order and the options, so the same list always draws the same picture
// and a refresh moves nothing that did not change. The node, edge and
// overflow helpers here are shared with the campaign graph, which hangs
// attackers from identities the same way.

import { shortId } from "./format";

// The fields of an AttackerIdentity the graph needs.
export interface IdentityInput {
  id: string;
  attackerIds: readonly string[];
  sessions: number;
}

export interface LayoutOptions {
  // Grid columns; fewer when there are fewer identities.
  columns: number;
  // Attackers drawn per identity. The rest are counted on an overflow
  // node and listed in the table under the graph.
  maxAttackers: number;
}

export const defaultLayoutOptions: LayoutOptions = { columns: 4, maxAttackers: 30 };

// Sizes in SVG user units (pixels at scale 1).
export const identityRadius = 24;
export const attackerRadius = 8;
// Radius of the first attacker ring, and the distance between rings.
const firstRingRadius = 62;
const ringGap = 26;
// Minimum arc length between the centers of two attackers on a ring.
const attackerSpacing = 24;
// Height of the two label lines above each identity's rings, and the
// baseline of each line below the top of the row's padding.
const labelHeight = 34;
const titleBaseline = 12;
const summaryBaseline = 27;
const cellPadding = 14;
// Cells are at least this wide, so that the label lines fit.
const minCellWidth = 190;

export interface IdentityNode {
  id: string;
  x: number;
  y: number;
  // First line above the node: the short id the rest of the dashboard
  // shows. It is the end of the UUID, because UUIDv7 ids formed within
  // about a minute of each other share their first eight characters.
  title: string;
  // Second line: attacker and session counts.
  summary: string;
  // Baselines of the two lines, at the top of the identity's row.
  titleY: number;
  summaryY: number;
  // Text for screen readers.
  ariaLabel: string;
  attackerCount: number;
  sessions: number;
}

export interface AttackerNode {
  // Unique within the graph: an attacker whose sessions belong to two
  // identities is drawn once under each. It is the key of the identity's
  // node, a slash and the attacker id.
  key: string;
  identityId: string;
  attackerId: string;
  x: number;
  y: number;
  label: string;
  ariaLabel: string;
}

// The node that stands for the attackers beyond maxAttackers.
export interface OverflowNode {
  // The key of the identity's node and "/+".
  key: string;
  identityId: string;
  x: number;
  y: number;
  hidden: number;
}

export interface Edge {
  key: string;
  // Keys of the nodes the edge joins, parent first.
  from: string;
  to: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface IdentityGraph {
  width: number;
  height: number;
  identities: IdentityNode[];
  attackers: AttackerNode[];
  overflows: OverflowNode[];
  edges: Edge[];
}

// Returns how many attackers each ring holds, innermost first, for count
// attackers: a ring takes as many as its circumference allows.
export function ringCapacities(count: number): number[] {
  const rings: number[] = [];
  let left = count;
  for (let ring = 0; left > 0; ring++) {
    const capacity = Math.max(1, Math.floor((2 * Math.PI * ringRadius(ring)) / attackerSpacing));
    const taken = Math.min(capacity, left);
    rings.push(taken);
    left -= taken;
  }
  return rings;
}

function ringRadius(ring: number): number {
  return firstRingRadius + ring * ringGap;
}

// Returns the radius an identity's drawing needs: its outermost ring plus
// an attacker node, or the identity node alone.
function outerRadius(nodes: number): number {
  const rings = ringCapacities(nodes).length;
  return rings === 0 ? identityRadius : ringRadius(rings - 1) + attackerRadius;
}

export function plural(n: number, one: string, many: string): string {
  return `${n.toString()} ${n === 1 ? one : many}`;
}

// Returns "3 attackers, 5 sessions".
export function identitySummary(attackers: number, sessions: number): string {
  return `${plural(attackers, "attacker", "attackers")}, ${plural(sessions, "session", "sessions")}`;
}

// Lays out identities in the order given, row by row. All columns have
// the width of the widest cell, and each row the height of its tallest,
// so that one large identity does not space out the whole graph.
export function layoutIdentityGraph(
  identities: readonly IdentityInput[],
  options: LayoutOptions = defaultLayoutOptions,
): IdentityGraph {
  const columns = Math.max(1, Math.min(options.columns, identities.length));
  const cells = identities.map((identity) => {
    const { shown, hidden, slots } = splitAttackers(identity.attackerIds.length, options.maxAttackers);
    return { identity, shown, hidden, radius: outerRadius(slots) };
  });
  const widest = cells.reduce((r, c) => Math.max(r, c.radius), 0);
  const cellWidth = Math.max(minCellWidth, 2 * (widest + cellPadding));

  const graph: IdentityGraph = { width: columns * cellWidth, height: 0, identities: [], attackers: [], overflows: [], edges: [] };
  for (let rowStart = 0; rowStart < cells.length; rowStart += columns) {
    const row = cells.slice(rowStart, rowStart + columns);
    const rowRadius = row.reduce((r, c) => Math.max(r, c.radius), 0);
    const labelTop = graph.height + cellPadding;
    row.forEach((cell, column) => {
      const place = {
        x: column * cellWidth + cellWidth / 2,
        y: labelTop + labelHeight + rowRadius,
        titleY: labelTop + titleBaseline,
        summaryY: labelTop + summaryBaseline,
      };
      placeIdentity(graph, cell.identity, place, cell.shown);
    });
    graph.height += 2 * cellPadding + labelHeight + 2 * rowRadius;
  }
  return graph;
}

// Adds one identity at place with its first shown attackers on rings
// starting at the top and going clockwise, and the overflow node after
// them.
function placeIdentity(
  graph: IdentityGraph,
  identity: IdentityInput,
  place: { x: number; y: number; titleY: number; summaryY: number },
  shown: number,
): void {
  const { x: cx, y: cy } = place;
  const total = identity.attackerIds.length;
  const hidden = total - shown;
  const summary = identitySummary(total, identity.sessions);
  graph.identities.push({
    id: identity.id,
    ...place,
    title: shortId(identity.id),
    summary,
    ariaLabel: `Identity ${shortId(identity.id)}, ${summary}`,
    attackerCount: total,
    sessions: identity.sessions,
  });

  const positions = ringPositions(shown + (hidden > 0 ? 1 : 0), cx, cy);
  const parent = { key: identity.id, identityId: identity.id, x: cx, y: cy };
  positions.forEach((at, k) => {
    hangAttacker(graph, parent, identity.attackerIds[k], k < shown ? 0 : hidden, at);
  });
}

// The attackers drawn under one identity, and the attackers beyond max
// that one overflow node counts. The overflow node takes a place of its
// own, so slots is what the layout must make room for.
export function splitAttackers(total: number, max: number): { shown: number; hidden: number; slots: number } {
  const shown = Math.min(total, Math.max(0, max));
  const hidden = total - shown;
  return { shown, hidden, slots: shown + (hidden > 0 ? 1 : 0) };
}

// Adds, at one place under an identity node, either the attacker node of
// attackerId and its edge or, when hidden is positive, the overflow node
// counting hidden attackers and its edge.
export function hangAttacker(
  graph: { attackers: AttackerNode[]; overflows: OverflowNode[]; edges: Edge[] },
  parent: { key: string; identityId: string; x: number; y: number },
  attackerId: string | undefined,
  hidden: number,
  at: { x: number; y: number },
): void {
  const { x, y } = at;
  const line = { x1: parent.x, y1: parent.y, x2: x, y2: y };
  if (hidden > 0 || attackerId === undefined) {
    const key = `${parent.key}/+`;
    graph.overflows.push({ key, identityId: parent.identityId, x, y, hidden });
    graph.edges.push({ key, from: parent.key, to: key, ...line });
    return;
  }
  const key = `${parent.key}/${attackerId}`;
  graph.attackers.push({
    key,
    identityId: parent.identityId,
    attackerId,
    x,
    y,
    label: shortId(attackerId),
    ariaLabel: `Attacker ${shortId(attackerId)} of identity ${shortId(parent.identityId)}: open the attacker page`,
  });
  graph.edges.push({ key, from: parent.key, to: key, ...line });
}

// Returns count points on rings around (cx, cy), rounded to a tenth of a
// unit so that the SVG text is stable.
export function ringPositions(count: number, cx: number, cy: number): { x: number; y: number }[] {
  const out: { x: number; y: number }[] = [];
  ringCapacities(count).forEach((onRing, ring) => {
    const radius = ringRadius(ring);
    // Odd rings start half a step round, so that their nodes sit between
    // those of the ring inside and the edges do not overlap.
    const offset = ring % 2 === 0 ? 0 : Math.PI / onRing;
    for (let k = 0; k < onRing; k++) {
      const angle = -Math.PI / 2 + offset + (2 * Math.PI * k) / onRing;
      out.push({ x: round(cx + radius * Math.cos(angle)), y: round(cy + radius * Math.sin(angle)) });
    }
  });
  return out;
}

// Rounds to a tenth of a unit, so that the SVG text is stable.
export function round(v: number): number {
  return Math.round(v * 10) / 10;
}
