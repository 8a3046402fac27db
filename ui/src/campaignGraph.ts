// Layout of the campaign graph: three columns, with each campaign on the
// left, its member identities in the middle and each identity's attackers
// on the right. Every parent is centred on the block of its children and
// blocks never share a row, so edges fan out from one node to one column
// and cross no other node. Like the identity graph, the layout depends
// only on the input order and the options.

import { shortId } from "./format";
import {
  attackerRadius,
  hangAttacker,
  identityRadius,
  plural,
  round,
  splitAttackers,
  type AttackerNode,
  type Edge,
  type OverflowNode,
} from "./identityGraph";

// The fields of a CampaignMember the graph needs.
export interface CampaignMemberInput {
  identityId: string;
  attackerIds: readonly string[];
}

// The fields of a Campaign the graph needs. A server older than the
// members field sends none; the identities are then drawn without
// attackers.
export interface CampaignInput {
  id: string;
  identityIds: readonly string[];
  attackerIds: readonly string[];
  members: readonly CampaignMemberInput[];
}

export interface CampaignLayoutOptions {
  // Attackers drawn per identity. The rest are counted on an overflow
  // node and listed in the details of the identity.
  maxAttackers: number;
}

export const defaultCampaignLayoutOptions: CampaignLayoutOptions = { maxAttackers: 8 };

// Sizes in SVG user units (pixels at scale 1).
export const campaignRadius = 28;
const padding = 16;
// Centre of the campaign column. Its labels are centred there, so it
// leaves half of the widest summary ("12 identities, 140 attackers" at
// 11 px, about 170 units) to the left.
const campaignX = padding + 90;
// Distances between the columns, long enough for the labels of a column
// to stay clear of the next one.
const identityX = campaignX + 190;
const attackerX = identityX + 150;
// Attacker labels start after the node and take up to 8 monospace
// characters at 11 px.
const attackerLabelGap = 6;
const attackerLabelWidth = 60;
// Vertical space of one attacker, its node and a gap.
const attackerRow = 24;
// Space above and below a node for its title and summary lines, and the
// offsets of their baselines from the node's edge.
const labelSpace = 20;
const titleOffset = 6;
const summaryOffset = 14;
// Space between two identities, and between two campaigns.
const identityGap = 8;
const campaignGap = 24;

export interface CampaignNode {
  // The campaign id, which is unique among campaigns.
  key: string;
  campaignId: string;
  x: number;
  y: number;
  title: string;
  summary: string;
  titleY: number;
  summaryY: number;
  ariaLabel: string;
  identityCount: number;
  attackerCount: number;
}

export interface MemberNode {
  // The campaign id, a slash and the identity id.
  key: string;
  campaignId: string;
  identityId: string;
  x: number;
  y: number;
  title: string;
  summary: string;
  titleY: number;
  summaryY: number;
  ariaLabel: string;
  attackerCount: number;
}

export interface CampaignGraph {
  width: number;
  height: number;
  campaigns: CampaignNode[];
  identities: MemberNode[];
  attackers: AttackerNode[];
  overflows: OverflowNode[];
  edges: Edge[];
}

// Returns "3 identities, 7 attackers".
export function campaignSummary(identities: number, attackers: number): string {
  return `${plural(identities, "identity", "identities")}, ${plural(attackers, "attacker", "attackers")}`;
}

// Returns the members of a campaign in the order of its identity ids,
// with those the server sent no member for as identities without
// attackers.
export function campaignMembers(campaign: CampaignInput): CampaignMemberInput[] {
  const byId = new Map(campaign.members.map((m) => [m.identityId, m]));
  return campaign.identityIds.map((identityId) => byId.get(identityId) ?? { identityId, attackerIds: [] });
}

// Lays out the campaigns from top to bottom in the order given.
export function layoutCampaignGraph(
  campaigns: readonly CampaignInput[],
  options: CampaignLayoutOptions = defaultCampaignLayoutOptions,
): CampaignGraph {
  const graph: CampaignGraph = {
    width: attackerX + attackerRadius + attackerLabelGap + attackerLabelWidth + padding,
    height: 0,
    campaigns: [],
    identities: [],
    attackers: [],
    overflows: [],
    edges: [],
  };
  let top = padding;
  for (const campaign of campaigns) {
    top = placeCampaign(graph, campaign, top, options) + campaignGap;
  }
  graph.height = campaigns.length === 0 ? 0 : top - campaignGap + padding;
  return graph;
}

// Adds one campaign with its block's top edge at top, and returns the
// bottom edge of the block.
function placeCampaign(graph: CampaignGraph, campaign: CampaignInput, top: number, options: CampaignLayoutOptions): number {
  const members = campaignMembers(campaign);
  const blocks = members.map((m) => {
    const { slots } = splitAttackers(m.attackerIds.length, options.maxAttackers);
    return Math.max(2 * (identityRadius + labelSpace), slots * attackerRow);
  });
  const membersHeight = blocks.reduce((sum, h) => sum + h, 0) + identityGap * Math.max(0, blocks.length - 1);
  const height = Math.max(2 * (campaignRadius + labelSpace), membersHeight);

  // The members' column is centred on the campaign's block, and the
  // campaign on the first and last member, as in a tidy tree.
  const tops: number[] = [];
  let blockTop = top + (height - membersHeight) / 2;
  for (const blockHeight of blocks) {
    tops.push(blockTop);
    blockTop += blockHeight + identityGap;
  }
  const firstY = (tops[0] ?? top) + (blocks[0] ?? height) / 2;
  const lastY = (tops[tops.length - 1] ?? top) + (blocks[blocks.length - 1] ?? height) / 2;
  const cy = round((firstY + lastY) / 2);
  const summary = campaignSummary(members.length, campaign.attackerIds.length);
  const node: CampaignNode = {
    key: campaign.id,
    campaignId: campaign.id,
    x: campaignX,
    y: cy,
    title: shortId(campaign.id),
    summary,
    titleY: cy - campaignRadius - titleOffset,
    summaryY: cy + campaignRadius + summaryOffset,
    ariaLabel: `Campaign ${shortId(campaign.id)}, ${summary}`,
    identityCount: members.length,
    attackerCount: campaign.attackerIds.length,
  };
  graph.campaigns.push(node);
  members.forEach((member, i) => {
    placeMember(graph, node, member, tops[i] ?? top, blocks[i] ?? 0, options);
  });
  return top + height;
}

// Adds one member identity of campaign centred in its block, its
// attackers in a column beside it, and the edge from the campaign.
function placeMember(
  graph: CampaignGraph,
  campaign: CampaignNode,
  member: CampaignMemberInput,
  top: number,
  height: number,
  options: CampaignLayoutOptions,
): void {
  const campaignId = campaign.campaignId;
  const key = `${campaignId}/${member.identityId}`;
  const y = round(top + height / 2);
  const total = member.attackerIds.length;
  const summary = plural(total, "attacker", "attackers");
  graph.identities.push({
    key,
    campaignId,
    identityId: member.identityId,
    x: identityX,
    y,
    title: shortId(member.identityId),
    summary,
    titleY: y - identityRadius - titleOffset,
    summaryY: y + identityRadius + summaryOffset,
    ariaLabel: `Identity ${shortId(member.identityId)} of campaign ${shortId(campaignId)}, ${summary}`,
    attackerCount: total,
  });
  graph.edges.push({ key, from: campaign.key, to: key, x1: campaign.x, y1: campaign.y, x2: identityX, y2: y });

  const { shown, hidden, slots } = splitAttackers(total, options.maxAttackers);
  const columnTop = top + (height - slots * attackerRow) / 2;
  const parent = { key, identityId: member.identityId, x: identityX, y };
  for (let k = 0; k < slots; k++) {
    const at = { x: attackerX, y: round(columnTop + (k + 0.5) * attackerRow) };
    hangAttacker(graph, parent, member.attackerIds[k], k < shown ? 0 : hidden, at);
  }
}

// Returns the label position of an attacker node: right of it, on its
// baseline.
export function attackerLabelX(x: number): number {
  return x + attackerRadius + attackerLabelGap;
}
