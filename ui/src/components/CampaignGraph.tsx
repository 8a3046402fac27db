import { attackerLabelX, campaignMembers, campaignRadius, type CampaignGraph, type MemberNode } from "../campaignGraph";
import { evidenceKindLabel, formatScore } from "../campaigns";
import { shortId } from "../format";
import type { Campaign } from "../gen/decnet/api/v1/campaign_service_pb";
import { identityRadius } from "../identityGraph";
import { routeHash } from "../nav";
import { AttackerLink, AttackerLinks, EdgeLines, OverflowMark, SelectableNode } from "./IdentityGraph";

// Draws the campaign graph. Tab moves through each campaign, then each of
// its identities followed by that identity's attackers. Enter or Space on
// a campaign or an identity selects it, and Enter on an attacker opens
// the attacker page, as any link does.
export function CampaignGraphView({
  graph,
  selectedKey,
  onSelect,
}: {
  graph: CampaignGraph;
  selectedKey: string;
  onSelect: (key: string) => void;
}) {
  const membersOf = (campaignId: string) => graph.identities.filter((m) => m.campaignId === campaignId);
  const attackersOf = (m: MemberNode) => graph.attackers.filter((a) => a.key.startsWith(`${m.key}/`));
  const overflowOf = (m: MemberNode) => graph.overflows.find((o) => o.key === `${m.key}/+`);

  return (
    <svg
      className="identity-graph campaign-graph"
      viewBox={`0 0 ${graph.width.toString()} ${graph.height.toString()}`}
      width={graph.width}
      height={graph.height}
      role="group"
      aria-label="Campaign graph: campaigns linked to their identities, identities to their attackers"
      data-testid="campaign-graph"
    >
      <EdgeLines edges={graph.edges} selectedKey={selectedKey} />
      {graph.campaigns.map((c) => (
        <g key={c.key} className="campaign-cell">
          <NodeLabels x={c.x} titleY={c.titleY} summaryY={c.summaryY} title={c.title} summary={c.summary} />
          <SelectableNode
            x={c.x}
            y={c.y}
            radius={campaignRadius}
            count={c.identityCount}
            className="campaign-node"
            ariaLabel={c.ariaLabel}
            tooltip={`${c.campaignId}: ${c.summary}`}
            selected={c.key === selectedKey}
            onSelect={() => onSelect(c.key)}
          />
          {membersOf(c.campaignId).map((m) => {
            const overflow = overflowOf(m);
            return (
              <g key={m.key} className="identity-cell">
                <NodeLabels x={m.x} titleY={m.titleY} summaryY={m.summaryY} title={m.title} summary={m.summary} />
                <SelectableNode
                  x={m.x}
                  y={m.y}
                  radius={identityRadius}
                  count={m.attackerCount}
                  className="identity-node"
                  ariaLabel={m.ariaLabel}
                  tooltip={`${m.identityId}: ${m.summary}`}
                  selected={m.key === selectedKey}
                  onSelect={() => onSelect(m.key)}
                />
                {attackersOf(m).map((a) => (
                  <AttackerLink key={a.key} node={a} labelX={attackerLabelX(a.x)} />
                ))}
                {overflow !== undefined && <OverflowMark node={overflow} listedIn="the identity's details" />}
              </g>
            );
          })}
        </g>
      ))}
    </svg>
  );
}

function NodeLabels({ x, titleY, summaryY, title, summary }: { x: number; titleY: number; summaryY: number; title: string; summary: string }) {
  return (
    <>
      <text x={x} y={titleY} className="identity-title" textAnchor="middle" aria-hidden="true">
        {title}
      </text>
      <text x={x} y={summaryY} className="identity-summary" textAnchor="middle" aria-hidden="true">
        {summary}
      </text>
    </>
  );
}

// Shows one identity of a campaign: all its attackers, and the evidence
// that ties it to the other members.
export function CampaignIdentityDetails({
  campaign,
  identityId,
  onSelectCampaign,
}: {
  campaign: Campaign;
  identityId: string;
  onSelectCampaign: () => void;
}) {
  const member = campaignMembers(campaign).find((m) => m.identityId === identityId);
  const evidence = campaign.evidence.filter((e) => e.identityId === identityId || e.otherIdentityId === identityId);
  return (
    <section className="identity-details" aria-labelledby="campaign-identity-title" data-testid="campaign-identity-details">
      <h2 id="campaign-identity-title">
        Identity <span className="mono">{shortId(identityId)}</span>
      </h2>
      <dl className="facts">
        <dt>id</dt>
        <dd className="mono">{identityId}</dd>
        <dt>campaign</dt>
        <dd>
          <button type="button" className="link mono" title={campaign.id} onClick={onSelectCampaign}>
            {shortId(campaign.id)}
          </button>
        </dd>
        <dt>attackers</dt>
        <dd>{member === undefined || member.attackerIds.length === 0 ? "none listed" : <AttackerLinks attackerIds={member.attackerIds} />}</dd>
        <dt>tied to</dt>
        <dd>
          {evidence.length === 0
            ? "no other identity directly"
            : evidence.map((e) => {
                const other = e.identityId === identityId ? e.otherIdentityId : e.identityId;
                return (
                  <div key={`${e.identityId}/${e.otherIdentityId}`}>
                    <span className="mono" title={other}>
                      {shortId(other)}
                    </span>{" "}
                    at {formatScore(e.score)}: {e.terms.map((t) => evidenceKindLabel(t.kind)).join(", ")}
                  </div>
                );
              })}
        </dd>
      </dl>
      <p>
        <a href={routeHash({ page: "identities" })}>All identities</a>
      </p>
    </section>
  );
}
