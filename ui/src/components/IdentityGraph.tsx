import type { KeyboardEvent } from "react";

import { formatDateTime, shortId } from "../format";
import type { AttackerIdentity } from "../gen/decnet/api/v1/identity_service_pb";
import {
  attackerRadius,
  identityRadius,
  identitySummary,
  type AttackerNode,
  type Edge,
  type IdentityGraph,
  type OverflowNode,
} from "../identityGraph";
import { routeHash } from "../nav";

// Returns the key handler of a selectable node: Enter or Space selects
// it, as they press a button.
export function selectOnKey(onSelect: () => void): (e: Pick<KeyboardEvent, "key" | "preventDefault">) => void {
  return (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      onSelect();
    }
  };
}

// A focusable node that selects something: a circle with a count in it.
export function SelectableNode({
  x,
  y,
  radius,
  count,
  className,
  ariaLabel,
  tooltip,
  selected,
  onSelect,
}: {
  x: number;
  y: number;
  radius: number;
  count: number;
  className: string;
  ariaLabel: string;
  tooltip: string;
  selected: boolean;
  onSelect: () => void;
}) {
  return (
    <g
      className={selected ? `${className} selected` : className}
      role="button"
      tabIndex={0}
      aria-pressed={selected}
      aria-label={ariaLabel}
      onClick={onSelect}
      onKeyDown={selectOnKey(onSelect)}
    >
      <title>{tooltip}</title>
      <circle cx={x} cy={y} r={radius} />
      <text x={x} y={y + 4} textAnchor="middle">
        {count}
      </text>
    </g>
  );
}

// An attacker node, a link to the attacker page. labelX, when set, places
// the attacker's short id right of the node.
export function AttackerLink({ node, labelX }: { node: AttackerNode; labelX?: number }) {
  return (
    <a href={routeHash({ page: "attacker", id: node.attackerId })} aria-label={node.ariaLabel} className="attacker-node">
      <title>{node.attackerId}</title>
      <circle cx={node.x} cy={node.y} r={attackerRadius} />
      {labelX !== undefined && (
        <text x={labelX} y={node.y + 4} className="attacker-label" aria-hidden="true">
          {node.label}
        </text>
      )}
    </a>
  );
}

// The count of attackers the graph leaves out, listed elsewhere.
export function OverflowMark({ node, listedIn }: { node: OverflowNode; listedIn: string }) {
  return (
    <text x={node.x} y={node.y + 4} className="overflow-node" textAnchor="middle">
      <title>{`${node.hidden.toString()} more attackers, listed in ${listedIn}`}</title>
      {`+${node.hidden.toString()}`}
    </text>
  );
}

// The edges under the nodes; those touching the selected node stand out.
export function EdgeLines({ edges, selectedKey }: { edges: readonly Edge[]; selectedKey: string }) {
  return (
    <g className="edges" aria-hidden="true">
      {edges.map((e) => (
        <line
          key={e.key}
          x1={e.x1}
          y1={e.y1}
          x2={e.x2}
          y2={e.y2}
          className={selectedKey !== "" && (e.from === selectedKey || e.to === selectedKey) ? "edge selected" : "edge"}
        />
      ))}
    </g>
  );
}

// Draws the graph. Tab moves through each identity and then its
// attackers. Enter or Space on an identity selects it, and Enter on an
// attacker opens the attacker page, as any link does.
export function IdentityGraphView({
  graph,
  selectedId,
  onSelect,
}: {
  graph: IdentityGraph;
  selectedId: string;
  onSelect: (id: string) => void;
}) {
  const attackersOf = (id: string) => graph.attackers.filter((a) => a.identityId === id);
  const overflowOf = (id: string) => graph.overflows.find((o) => o.identityId === id);

  return (
    <svg
      className="identity-graph"
      viewBox={`0 0 ${graph.width.toString()} ${graph.height.toString()}`}
      width={graph.width}
      height={graph.height}
      role="group"
      aria-label="Identity graph: identities linked to their attackers"
      data-testid="identity-graph"
    >
      <EdgeLines edges={graph.edges} selectedKey={selectedId} />
      {graph.identities.map((node) => {
        const overflow = overflowOf(node.id);
        return (
          <g key={node.id} className="identity-cell">
            <text x={node.x} y={node.titleY} className="identity-title" textAnchor="middle" aria-hidden="true">
              {node.title}
            </text>
            <text x={node.x} y={node.summaryY} className="identity-summary" textAnchor="middle" aria-hidden="true">
              {node.summary}
            </text>
            <SelectableNode
              x={node.x}
              y={node.y}
              radius={identityRadius}
              count={node.attackerCount}
              className="identity-node"
              ariaLabel={node.ariaLabel}
              tooltip={`${node.id}: ${node.summary}`}
              selected={node.id === selectedId}
              onSelect={() => onSelect(node.id)}
            />
            {attackersOf(node.id).map((a) => (
              <AttackerLink key={a.key} node={a} />
            ))}
            {overflow !== undefined && <OverflowMark node={overflow} listedIn="the table" />}
          </g>
        );
      })}
    </svg>
  );
}

// Lists the identities for keyboard and screen reader users, and for
// identities with more attackers than the graph draws.
export function IdentityTable({
  identities,
  selectedId,
  onSelect,
}: {
  identities: readonly AttackerIdentity[];
  selectedId: string;
  onSelect: (id: string) => void;
}) {
  return (
    <table className="identities">
      <thead>
        <tr>
          <th>identity</th>
          <th className="num">attackers</th>
          <th className="num">sessions</th>
          <th>created (UTC)</th>
          <th>attacker ids</th>
        </tr>
      </thead>
      <tbody>
        {identities.map((identity) => (
          <tr key={identity.id} className={identity.id === selectedId ? "selected" : undefined}>
            <td>
              <button
                type="button"
                className="link mono"
                title={identity.id}
                aria-pressed={identity.id === selectedId}
                aria-label={`Select identity ${shortId(identity.id)}`}
                onClick={() => onSelect(identity.id)}
              >
                {shortId(identity.id)}
              </button>
            </td>
            <td className="num">{identity.attackerIds.length}</td>
            <td className="num">{identity.sessions}</td>
            <td className="mono">{formatDateTime(identity.created)}</td>
            <td className="wrap">
              <AttackerLinks attackerIds={identity.attackerIds} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AttackerLinks({ attackerIds }: { attackerIds: readonly string[] }) {
  return (
    <>
      {attackerIds.map((id, i) => (
        <span key={id}>
          {i > 0 && ", "}
          <a className="mono" href={routeHash({ page: "attacker", id })} title={id}>
            {shortId(id)}
          </a>
        </span>
      ))}
    </>
  );
}

// Shows the selected identity in full.
export function IdentityDetails({ identity }: { identity: AttackerIdentity }) {
  return (
    <section className="identity-details" aria-labelledby="identity-details-title" data-testid="identity-details">
      <h2 id="identity-details-title">Identity {shortId(identity.id)}</h2>
      <dl className="facts">
        <dt>id</dt>
        <dd className="mono">{identity.id}</dd>
        <dt>created</dt>
        <dd className="mono">{formatDateTime(identity.created)} UTC</dd>
        <dt>size</dt>
        <dd>{identitySummary(identity.attackerIds.length, identity.sessions)}</dd>
        <dt>attackers</dt>
        <dd>
          <AttackerLinks attackerIds={identity.attackerIds} />
        </dd>
      </dl>
    </section>
  );
}

// Tells the user why the list is empty and what to do next.
export function IdentitiesEmpty({ minAttackers }: { minAttackers: number }) {
  if (minAttackers > 1) {
    return (
      <p className="empty" data-testid="identities-empty">
        No identity has {minAttackers} or more attackers yet. Lower the minimum to see the smaller
        ones.
      </p>
    );
  }
  return (
    <div className="empty" data-testid="identities-empty">
      <p>No identities yet.</p>
      <p>
        Each attacker session joins an identity within about ten seconds of its events. Attackers
        from different addresses share one when they reuse a client fingerprint, a credential a decoy
        accepted, a sequence of commands, or a payload and the server it came from.
      </p>
      <p>
        If the <a href={routeHash({ page: "attackers" })}>Attackers</a> page lists attackers, their
        identities appear here within about ten seconds. If it lists none, check on the{" "}
        <a href={routeHash({ page: "fleet" })}>Fleet</a> page that your agents are online.
      </p>
    </div>
  );
}
