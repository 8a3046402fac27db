import { useMemo, useState } from "react";

import { ExportButtons } from "../components/AttackerIntelSections";
import { ErrorNotice } from "../components/ErrorNotice";
import { IdentitiesEmpty, IdentityDetails, IdentityGraphView, IdentityTable } from "../components/IdentityGraph";
import { loadIdentities, minAttackerChoices } from "../identities";
import { defaultLayoutOptions, layoutIdentityGraph } from "../identityGraph";
import { useResource, useSession } from "../session";

// identityVersion moves when identity.* notices arrive: an identity
// formed, grew, merged or split. The list reloads then, and on Refresh.
export function IdentitiesPage({ identityVersion }: { identityVersion: number }) {
  const { role } = useSession();
  const [minAttackers, setMinAttackers] = useState(1);
  const [pages, setPages] = useState(1);
  const [selectedId, setSelectedId] = useState("");
  const list = useResource(
    (api, signal) => loadIdentities((req) => api.identities.listIdentities(req, { signal }), minAttackers, pages),
    [minAttackers, pages, identityVersion],
  );
  const identities = useMemo(() => list.data?.identities ?? [], [list.data]);
  const graph = useMemo(() => layoutIdentityGraph(identities, defaultLayoutOptions), [identities]);
  const selected = identities.find((i) => i.id === selectedId);
  const toggle = (id: string): void => setSelectedId((current) => (current === id ? "" : id));

  return (
    <>
      <h1 tabIndex={-1}>Identities</h1>
      <p className="hint">
        Attackers the control plane judged to be one actor, largest first. Each circle is an identity
        and shows how many attackers it has. The dots around it are its attackers, and each opens its
        attacker page. Identities regroup about every ten seconds as events arrive, and the page
        updates when they change.
      </p>
      <form className="inline-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          At least{" "}
          <select
            name="min-attackers"
            value={minAttackers}
            onChange={(e) => {
              setMinAttackers(Number(e.target.value));
              setPages(1);
            }}
          >
            {minAttackerChoices.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>{" "}
          attackers per identity
        </label>
        {/* Stays enabled while loading: a notice can start a reload at any
            moment, and a disabled button would drop the keyboard focus. */}
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
        {list.loading && <span className="hint">Loading…</span>}
      </form>
      <ErrorNotice error={list.error} role={role} />
      {list.data !== undefined && identities.length === 0 && <IdentitiesEmpty minAttackers={minAttackers} />}
      {identities.length > 0 && (
        <>
          <div className="identity-graph-frame">
            <IdentityGraphView graph={graph} selectedId={selectedId} onSelect={toggle} />
          </div>
          {selected !== undefined && (
            <>
              <IdentityDetails identity={selected} />
              <ExportButtons kind="identity" id={selected.id} />
            </>
          )}
          <h2>All identities</h2>
          <IdentityTable identities={identities} selectedId={selectedId} onSelect={toggle} />
          {list.data?.more === true && (
            <p>
              <button type="button" onClick={() => setPages((p) => p + 1)} disabled={list.loading}>
                Load more identities
              </button>
            </p>
          )}
        </>
      )}
    </>
  );
}
