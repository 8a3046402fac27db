import { useEffect, useMemo, useRef, useState } from "react";

import { describeError, isCanceled, isUnauthenticated } from "../api";
import { ErrorNotice } from "../components/ErrorNotice";
import { parseDecoyConfig } from "../decoyconfig";
import { agentStatusLabel } from "../fleet";
import { shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { Agent, GetAgentResponse } from "../gen/decnet/api/v1/agent_service_pb";
import { routeHash } from "../nav";
import { useResource, useSession } from "../session";
import {
  applyOutcome,
  buildTopology,
  configVersionSummary,
  countStates,
  serviceStateLabels,
  type ApplyOutcome,
  type DeckyNode,
} from "../topology";
import "../topology.css";
import { useAgentUpdates } from "../useNoticeStream";

// After a save, GetAgent is polled this often, for at most applyWaitMs:
// two default heartbeat intervals for the agent to report its verdict.
const applyPollMs = 1_000;
const applyWaitMs = 20_000;

export function TopologyPage() {
  const { role } = useSession();
  const isAdmin = role >= Role.ADMIN;
  const fleet = useResource(async (api, signal) => {
    const list = await api.agents.listAgents({}, { signal });
    const active = list.agents.filter((a) => !a.revoked);
    // NOTE: ListAgents carries no configuration document, so each agent
    // costs one GetAgent call per reload. That is fine for tens of agents.
    const details = await Promise.all(active.map((a) => api.agents.getAgent({ id: a.id }, { signal })));
    return { details, decommissioned: list.agents.length - active.length };
  }, []);
  const { reload } = fleet;

  // Reloads when the server hears from an agent.
  const updates = useAgentUpdates();
  useEffect(() => {
    if (updates.version > 0) {
      reload();
    }
    // reload changes identity on every render; only the version matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [updates.version]);

  const details = fleet.data?.details ?? [];
  const decommissioned = fleet.data?.decommissioned ?? 0;

  return (
    <>
      <h1 tabIndex={-1}>Topology</h1>
      <p className="hint">
        Each agent with the deckies and decoy services it is configured to run, and what its last heartbeat
        reports, updated as heartbeats arrive
        {updates.live ? "" : " (reconnecting to the server; the page may be behind)"}.
      </p>
      <ErrorNotice error={fleet.error} role={role} />
      {fleet.data !== undefined && details.length === 0 && (
        <div className="empty" data-testid="topology-empty">
          <p>No agents enrolled{decommissioned > 0 ? " (decommissioned agents are listed on the Fleet page)" : ""}.</p>
          {isAdmin ? (
            <p>
              To add one, open the <a href={routeHash({ page: "enroll" })}>Enroll</a> page, create a bootstrap
              token and run the install line it shows on the sensor. The agent and its deckies appear here
              after its first heartbeat.
            </p>
          ) : (
            <p>Ask an admin to enroll a sensor on the Enroll page.</p>
          )}
        </div>
      )}
      {details.length > 0 && (
        <ul className="topology" aria-label="Agents">
          {details.map((d) =>
            d.agent === undefined ? null : (
              <AgentBranch key={d.agent.id} agent={d.agent} response={d} isAdmin={isAdmin} onSaved={reload} />
            ),
          )}
        </ul>
      )}
      {decommissioned > 0 && details.length > 0 && (
        <p className="hint">
          {decommissioned} decommissioned agent{decommissioned === 1 ? " is" : "s are"} not shown; the{" "}
          <a href={routeHash({ page: "fleet" })}>Fleet</a> page lists them.
        </p>
      )}
    </>
  );
}

export function AgentBranch({
  agent,
  response,
  isAdmin,
  onSaved,
}: {
  agent: Agent;
  response: GetAgentResponse;
  isAdmin: boolean;
  onSaved: () => void;
}) {
  const desiredConfig = useMemo(() => new TextDecoder().decode(response.desiredConfig), [response.desiredConfig]);
  const topology = useMemo(
    () =>
      buildTopology({
        decoys: agent.lastHeartbeat?.decoys,
        desiredConfig,
        desiredVersion: agent.desiredConfigVersion,
        appliedVersion: agent.appliedConfigVersion,
      }),
    [agent, desiredConfig],
  );
  const counts = countStates(topology);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const status = agentStatusLabel(agent);
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);

  const closeEditor = (): void => {
    setEditing(false);
    // Return focus to where the editor was opened.
    setTimeout(() => editButton.current?.focus(), 0);
  };

  return (
    <li className="topology-agent" data-testid="topology-agent">
      <details open>
        <summary>
          <span className="topology-name">{agent.name}</span>{" "}
          <span className={`agent-status status-${status}`}>{status}</span>{" "}
          <span className="hint">
            {topology.deckies.length} decky{topology.deckies.length === 1 ? "" : "s"}, {total} service
            {total === 1 ? "" : "s"}
            {counts.unhealthy > 0 && `, ${counts.unhealthy} unhealthy`}
          </span>
        </summary>
        <dl className="facts">
          <dt>id</dt>
          <dd className="mono" title={agent.id}>
            {shortId(agent.id)}
          </dd>
          <dt>agent version</dt>
          <dd className="mono">{agent.version || "unknown"}</dd>
          <dt>configuration</dt>
          <dd>
            {configVersionSummary(agent.desiredConfigVersion, agent.appliedConfigVersion, agent.configError)}
            {agent.configError !== "" && (
              <div className="error">
                Agent error: <span className="mono">{agent.configError}</span>
              </div>
            )}
          </dd>
        </dl>
        {topology.configProblem !== "" && (
          <p className="warn">
            The tree cannot show the desired configuration ({topology.configProblem}), so it lists only what
            the heartbeat reports. The agent checks the document itself and reports its own error.
          </p>
        )}
        {topology.deckies.length === 0 ? (
          <p className="empty">
            {agent.lastHeartbeat === undefined
              ? "No heartbeat from this agent has reached the control plane since it started."
              : "The agent reports no decoys and no desired configuration is set."}
          </p>
        ) : (
          <ul className="topology-deckies" aria-label={`Deckies of ${agent.name}`}>
            {topology.deckies.map((decky) => (
              <DeckyBranch key={decky.name} decky={decky} showConfigured={topology.hasDesiredConfig} />
            ))}
          </ul>
        )}
        {isAdmin &&
          (editing ? (
            <ConfigEditor agent={agent} initial={desiredConfig} onClose={closeEditor} onSaved={onSaved} />
          ) : (
            <button type="button" ref={editButton} onClick={() => setEditing(true)} disabled={agent.revoked}>
              Edit desired configuration…
            </button>
          ))}
      </details>
    </li>
  );
}

function DeckyBranch({ decky, showConfigured }: { decky: DeckyNode; showConfigured: boolean }) {
  return (
    <li className="topology-decky">
      <details open>
        <summary>
          decky <span className="topology-name mono">{decky.name}</span>{" "}
          <span className="hint">
            {decky.services.length} service{decky.services.length === 1 ? "" : "s"}
          </span>
        </summary>
        <table className="topology-services">
          <caption className="visually-hidden">Services of decky {decky.name}</caption>
          <thead>
            <tr>
              <th scope="col">service</th>
              <th scope="col">persona</th>
              <th scope="col">address</th>
              <th scope="col">state</th>
              <th scope="col">connections</th>
            </tr>
          </thead>
          <tbody>
            {decky.services.map((s, i) => (
              <tr key={`${s.name}/${i}`} className={`service-${s.state}`}>
                <td className="mono">{s.name}</td>
                <td className="mono">{s.persona || "—"}</td>
                <td className="mono">
                  {s.address || s.listen || "—"}
                  {s.address !== "" && s.listen !== "" && s.listen !== s.address && (
                    <span className="hint"> (configured {s.listen})</span>
                  )}
                </td>
                <td>
                  <span className="service-state">{serviceStateLabels[s.state]}</span>
                  {s.lastError !== "" && <div className="error mono">{s.lastError}</div>}
                  {showConfigured && !s.configured && (
                    <div className="hint">not in the desired configuration</div>
                  )}
                </td>
                <td className="num">
                  {s.reported
                    ? `${s.connectionsAccepted.toString()} accepted, ${s.connectionsRejected.toString()} rejected`
                    : "—"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </li>
  );
}

function ConfigEditor({
  agent,
  initial,
  onClose,
  onSaved,
}: {
  agent: Agent;
  initial: string;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { api, onUnauthenticated } = useSession();
  const [text, setText] = useState(initial);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(undefined);
  const [outcome, setOutcome] = useState<ApplyOutcome | undefined>(undefined);
  const abortRef = useRef<AbortController | null>(null);
  const fieldId = `desired-config-${agent.id}`;
  const hintId = `${fieldId}-hint`;

  useEffect(() => () => abortRef.current?.abort(), []);

  const readProblem = useMemo(() => {
    if (text.trim() === "") {
      return "";
    }
    try {
      parseDecoyConfig(text);
      return "";
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }, [text]);

  const save = async (): Promise<void> => {
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    setSaving(true);
    setSaveError(undefined);
    setOutcome(undefined);
    try {
      const errorBefore = agent.configError;
      const res = await api.agents.setAgentConfig({ agentId: agent.id, document: new TextEncoder().encode(text) });
      setOutcome({ state: "waiting", version: res.version });
      setOutcome(await waitForAgent(abort.signal, res.version, errorBefore));
    } catch (err) {
      if (abort.signal.aborted || isCanceled(err)) {
        return;
      }
      if (isUnauthenticated(err)) {
        onUnauthenticated();
        return;
      }
      setSaveError(err);
    } finally {
      if (!abort.signal.aborted) {
        setSaving(false);
        onSaved();
      }
    }
  };

  const waitForAgent = async (signal: AbortSignal, version: bigint, errorBefore: string): Promise<ApplyOutcome> => {
    const deadline = Date.now() + applyWaitMs;
    for (;;) {
      await sleep(applyPollMs, signal);
      const res = await api.agents.getAgent({ id: agent.id }, { signal });
      const current = res.agent;
      if (current === undefined) {
        throw new Error("GetAgent returned no agent");
      }
      const result = applyOutcome(current, version, errorBefore, Date.now() >= deadline);
      if (result.state !== "waiting") {
        return result;
      }
    }
  };

  return (
    <form
      className="config-editor"
      aria-label={`Desired configuration of ${agent.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label htmlFor={fieldId}>Desired decoy configuration of {agent.name} (YAML)</label>
      <p className="hint" id={hintId}>
        {initial === ""
          ? "No desired configuration is set, so the agent runs the decoy file on its host. Write the whole configuration: deckies, each with a name and its services. A decky without a seed gets a new one. "
          : "Saving stores the document under the next version and pushes it to the agent. Seeds derive each decky's keys, so they read \"hidden\": leave one as it is to keep the decky's keys, or delete the line to give the decky new ones. "}
        The agent validates the document and saves it as pushed-decoys.yaml in its data directory. It keeps
        running its current decoys until it is restarted with --decoys pointing at that file.
      </p>
      <textarea
        id={fieldId}
        aria-describedby={hintId}
        className="mono"
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={Math.min(30, Math.max(10, text.split("\n").length + 1))}
        spellCheck={false}
        autoFocus
      />
      {readProblem !== "" && (
        <p className="warn">The topology tree cannot read this document: {readProblem}. You can still save it.</p>
      )}
      <div className="inline-form">
        <button type="submit" disabled={saving}>
          {saving ? "Saving…" : "Save and push"}
        </button>
        <button type="button" className="link" onClick={onClose}>
          {outcome === undefined ? "Cancel" : "Close"}
        </button>
      </div>
      {saveError !== undefined && (
        <p className="error" role="alert" data-testid="config-save-error">
          The server rejected the configuration: {describeError(saveError)}
        </p>
      )}
      {outcome !== undefined && <OutcomeNotice outcome={outcome} />}
    </form>
  );
}

export function OutcomeNotice({ outcome }: { outcome: ApplyOutcome }) {
  const version = outcome.version.toString();
  switch (outcome.state) {
    case "waiting":
      return (
        <p className="notice" role="status">
          Saved as version {version}. Waiting for the agent to validate it…
        </p>
      );
    case "applied":
      return (
        <p className="notice" role="status" data-testid="config-applied">
          The agent validated and saved version {version}. It runs these decoys once it is restarted with
          --decoys pointing at pushed-decoys.yaml.
        </p>
      );
    case "rejected":
      return (
        <div className="error" role="alert" data-testid="config-rejected">
          Saved as version {version}, but the agent rejected it and keeps its previous configuration:
          <pre className="mono">{outcome.error}</pre>
          Fix the document and save again.
        </div>
      );
    case "superseded":
      return (
        <p className="warn" role="status">
          Saved as version {version}, but someone saved version {outcome.newer.toString()} since. The agent
          receives the newer one.
        </p>
      );
    case "no-answer":
      return (
        <p className="warn" role="status">
          Saved as version {version}. The agent has not answered in {applyWaitMs / 1000} seconds.{" "}
          {outcome.connected
            ? "Its state above updates when it does."
            : "It is not connected and receives the version when it reconnects."}
        </p>
      );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(new DOMException("aborted", "AbortError"));
      },
      { once: true },
    );
  });
}
