import { useEffect, useState } from "react";

import { ErrorNotice } from "../components/ErrorNotice";
import { agentLosses, agentStatusLabel, heartbeatAgeSeconds, spoolDepth } from "../fleet";
import { formatDateTime, shortId } from "../format";
import { Role } from "../gen/decnet/api/v1/access_pb";
import type { Agent } from "../gen/decnet/api/v1/agent_service_pb";
import { routeHash } from "../nav";
import { useResource, useSession } from "../session";
import { useAgentUpdates } from "../useNoticeStream";

export function FleetPage() {
  const { api, role } = useSession();
  const agents = useResource((a, signal) => a.agents.listAgents({}, { signal }), []);
  const { reload } = agents;
  const [confirming, setConfirming] = useState("");
  const [actionError, setActionError] = useState<unknown>(undefined);
  const isAdmin = role >= Role.ADMIN;

  // Reloads when the server hears from an agent.
  const updates = useAgentUpdates();
  useEffect(() => {
    if (updates.version > 0) {
      reload();
    }
    // reload changes identity on every render; only the version matters.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [updates.version]);

  const decommission = async (agent: Agent): Promise<void> => {
    setActionError(undefined);
    try {
      await api.agents.decommissionAgent({ id: agent.id });
      setConfirming("");
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  const list = agents.data?.agents ?? [];
  const now = Date.now();

  return (
    <>
      <h1 tabIndex={-1}>Fleet</h1>
      <p className="hint">
        Enrolled sensors and their decoys, updated as heartbeats arrive
        {updates.live ? "" : " (reconnecting to the server; the list may be behind)"}.
      </p>
      <ErrorNotice error={agents.error} role={role} />
      <ErrorNotice error={actionError} role={role} />
      {agents.data !== undefined && list.length === 0 && (
        <p className="empty">
          No agents enrolled.{" "}
          {isAdmin ? (
            <>
              Create a bootstrap token on the <a href={routeHash({ page: "enroll" })}>Enroll</a> page
              and run the install line it shows on the sensor.
            </>
          ) : (
            "Ask an admin to enroll a sensor."
          )}
        </p>
      )}
      {list.length > 0 && (
        <table className="agents">
          <thead>
            <tr>
              <th>name</th>
              <th>id</th>
              <th>status</th>
              <th>version</th>
              <th>last heartbeat</th>
              <th>spool</th>
              <th>problems</th>
              <th>config</th>
              <th>decoys</th>
              {isAdmin && <th />}
            </tr>
          </thead>
          <tbody>
            {list.map((agent) => {
              const age = heartbeatAgeSeconds(agent, now);
              const decoys = agent.lastHeartbeat?.decoys ?? [];
              return (
                <tr key={agent.id}>
                  <td>{agent.name}</td>
                  <td className="mono" title={agent.id}>
                    {shortId(agent.id)}
                  </td>
                  <td className={`agent-status status-${agentStatusLabel(agent)}`}>
                    {agentStatusLabel(agent)}
                    {agent.connected ? "" : " (disconnected)"}
                  </td>
                  <td className="mono">{agent.version || "unknown"}</td>
                  <td className="mono" title={formatDateTime(agent.lastHeartbeat?.receivedAt)}>
                    {age === undefined ? "none yet" : `${age} s ago`}
                  </td>
                  <td>{spoolDepth(agent)}</td>
                  <td>{agentLosses(agent) || "none"}</td>
                  <td>
                    {agent.appliedConfigVersion.toString()}/{agent.desiredConfigVersion.toString()}
                    {agent.configError !== "" && <span className="error"> {agent.configError}</span>}
                  </td>
                  <td className="mono decoys">
                    {decoys.map((d) => (
                      <div key={`${d.decky}/${d.service}`} className={d.healthy ? "" : "bad"}>
                        {d.decky}/{d.service} {d.address}
                        {d.healthy ? "" : ` (${d.lastError || "unhealthy"})`}
                      </div>
                    ))}
                  </td>
                  {isAdmin && (
                    <td>
                      {agent.revoked ? (
                        <span className="hint">decommissioned {formatDateTime(agent.decommissionedAt)}</span>
                      ) : confirming === agent.id ? (
                        <span className="confirm" role="group" aria-label={`Confirm decommission of ${agent.name}`}>
                          Revoke {agent.name} for good?{" "}
                          <button type="button" className="danger" onClick={() => void decommission(agent)}>
                            Decommission
                          </button>{" "}
                          <button type="button" className="link" onClick={() => setConfirming("")} autoFocus>
                            Cancel
                          </button>
                        </span>
                      ) : (
                        <button type="button" onClick={() => setConfirming(agent.id)}>
                          Decommission…
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </>
  );
}
