import { useMemo, useState } from "react";

import { defaultCampaignLayoutOptions, layoutCampaignGraph } from "../campaignGraph";
import { evidenceKindLabel, evidenceKinds, formatScore, loadCampaigns } from "../campaigns";
import { ExportButtons } from "../components/AttackerIntelSections";
import { CampaignGraphView, CampaignIdentityDetails } from "../components/CampaignGraph";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, shortId } from "../format";
import type { Campaign } from "../gen/decnet/api/v1/campaign_service_pb";
import { routeHash } from "../nav";
import { useResource, useSession } from "../session";
import { useNoticeStream } from "../useNoticeStream";

// Lists campaigns, largest first, as a graph and a table, and details the
// selected campaign or identity. The stream of campaign.* notices is open
// only while the page is, so the list reloads when a campaign forms,
// grows, merges or splits.
export function CampaignsPage() {
  const { api, role, onUnauthenticated } = useSession();
  const notices = useNoticeStream(api, "campaign.>", onUnauthenticated);
  const [pages, setPages] = useState(1);
  // The key of the selected graph node: a campaign id, or a campaign id,
  // a slash and an identity id.
  const [selectedKey, setSelectedKey] = useState("");
  const list = useResource(
    (client, signal) => loadCampaigns((req) => client.campaigns.listCampaigns(req, { signal }), pages),
    [pages, notices.version],
  );
  const campaigns = useMemo(() => list.data?.campaigns ?? [], [list.data]);
  const graph = useMemo(() => layoutCampaignGraph(campaigns, defaultCampaignLayoutOptions), [campaigns]);
  const selectedCampaign = campaigns.find((c) => c.id === selectedKey);
  const selectedMember = graph.identities.find((m) => m.key === selectedKey);
  const memberCampaign = campaigns.find((c) => c.id === selectedMember?.campaignId);
  const toggle = (key: string): void => setSelectedKey((current) => (current === key ? "" : key));

  return (
    <>
      <h1 tabIndex={-1}>Campaigns</h1>
      <p className="hint">
        Identities that evidence ties to one operation, largest first. In the graph each campaign on
        the left shows how many identities it has, each identity how many attackers, and each attacker
        opens its attacker page. Select a campaign or an identity for its details. Campaigns regroup
        about every thirty seconds from the current identities, and the page updates when they change.
      </p>
      <form className="inline-form" onSubmit={(e) => e.preventDefault()}>
        {/* Stays enabled while loading, as on the Identities page. */}
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
        {list.loading && <span className="hint">Loading…</span>}
      </form>
      <ErrorNotice error={list.error} role={role} />
      {list.data !== undefined && campaigns.length === 0 && <CampaignsEmpty />}
      {campaigns.length > 0 && (
        <>
          <div className="identity-graph-frame campaign-graph-frame">
            <CampaignGraphView graph={graph} selectedKey={selectedKey} onSelect={toggle} />
          </div>
          {selectedCampaign !== undefined && (
            <>
              <CampaignDetails campaign={selectedCampaign} />
              <ExportButtons kind="campaign" id={selectedCampaign.id} />
            </>
          )}
          {selectedMember !== undefined && memberCampaign !== undefined && (
            <CampaignIdentityDetails
              campaign={memberCampaign}
              identityId={selectedMember.identityId}
              onSelectCampaign={() => setSelectedKey(memberCampaign.id)}
            />
          )}
          <h2>All campaigns</h2>
          <CampaignTable campaigns={campaigns} selectedId={selectedCampaign?.id ?? ""} onSelect={toggle} />
          {list.data?.more === true && (
            <p>
              <button type="button" onClick={() => setPages((p) => p + 1)} disabled={list.loading}>
                Load more campaigns
              </button>
            </p>
          )}
        </>
      )}
    </>
  );
}

export function CampaignTable({
  campaigns,
  selectedId,
  onSelect,
}: {
  campaigns: readonly Campaign[];
  selectedId: string;
  onSelect: (id: string) => void;
}) {
  return (
    <table className="identities campaigns" data-testid="campaigns-table">
      <thead>
        <tr>
          <th>campaign</th>
          <th className="num">identities</th>
          <th className="num">attackers</th>
          <th>first seen (UTC)</th>
          <th>last seen (UTC)</th>
          <th>evidence</th>
        </tr>
      </thead>
      <tbody>
        {campaigns.map((c) => (
          <tr key={c.id} className={c.id === selectedId ? "selected" : undefined}>
            <td>
              <button
                type="button"
                className="link mono"
                title={c.id}
                aria-pressed={c.id === selectedId}
                aria-label={`Select campaign ${shortId(c.id)}`}
                onClick={() => onSelect(c.id)}
              >
                {shortId(c.id)}
              </button>
            </td>
            <td className="num">{c.identityIds.length}</td>
            <td className="num">{c.attackerIds.length}</td>
            <td className="mono">{formatDateTime(c.firstSeen)}</td>
            <td className="mono">{formatDateTime(c.lastSeen)}</td>
            <td className="wrap">
              {evidenceKinds(c.evidence).map((k) => (
                <span key={k.kind} className="tag" title={`${k.pairs.toString()} identity pairs`}>
                  {k.label}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function CampaignDetails({ campaign }: { campaign: Campaign }) {
  return (
    <section aria-label={`Campaign ${shortId(campaign.id)}`} data-testid="campaign-details">
      <h2>
        Campaign <span className="mono">{shortId(campaign.id)}</span>
      </h2>
      <p>
        Identities:{" "}
        {campaign.identityIds.map((id, i) => (
          <span key={id}>
            {i > 0 && ", "}
            <a className="mono" href={routeHash({ page: "identities" })} title={id}>
              {shortId(id)}
            </a>
          </span>
        ))}
      </p>
      <p>
        Attackers:{" "}
        {campaign.attackerIds.map((id, i) => (
          <span key={id}>
            {i > 0 && ", "}
            <a className="mono" href={routeHash({ page: "attacker", id })} title={id}>
              {shortId(id)}
            </a>
          </span>
        ))}
      </p>
      <h3>Evidence</h3>
      <p className="hint">
        Each row is a pair of identities whose evidence joined the campaign. A pair joins at a score
        of 1.00.
      </p>
      <table className="identities">
        <thead>
          <tr>
            <th>identities</th>
            <th className="num">score</th>
            <th>terms</th>
          </tr>
        </thead>
        <tbody>
          {campaign.evidence.map((e) => (
            <tr key={`${e.identityId}/${e.otherIdentityId}`}>
              <td className="mono">
                <span title={e.identityId}>{shortId(e.identityId)}</span> –{" "}
                <span title={e.otherIdentityId}>{shortId(e.otherIdentityId)}</span>
              </td>
              <td className="num">{formatScore(e.score)}</td>
              <td className="wrap">
                {e.terms.map((t) => (
                  <div key={t.kind}>
                    {evidenceKindLabel(t.kind)} {formatScore(t.score)}
                    {t.detail !== "" && <span className="hint">: {t.detail}</span>}
                  </div>
                ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function CampaignsEmpty() {
  return (
    <div className="empty" data-testid="campaigns-empty">
      <p>No campaigns yet.</p>
      <p>
        A campaign forms when evidence ties two identities to one operation: one hands over to the
        next on the same deckies, logs in with a password the other guessed, fetches from the same
        C2 host or payload, or starts together with it on the same deckies.
      </p>
      <p>
        Campaigns are built from the <a href={routeHash({ page: "identities" })}>Identities</a>, so
        they appear there first.
      </p>
    </div>
  );
}
