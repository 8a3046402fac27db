// Display of enrolled agents.

import { timestampMs } from "@bufbuild/protobuf/wkt";

import { formatBytes } from "./format";
import { AgentStatus, type Agent } from "./gen/decnet/api/v1/agent_service_pb";

export function agentStatusLabel(agent: Agent): string {
  if (agent.revoked) {
    return "decommissioned";
  }
  switch (agent.status) {
    case AgentStatus.ONLINE:
      return "online";
    case AgentStatus.DEGRADED:
      return "degraded";
    case AgentStatus.OFFLINE:
      return "offline";
    default:
      return "unknown";
  }
}

// Describes the events waiting for delivery in an agent's spool. The numbers
// come from the last heartbeat this control plane process received. Before
// the first one they are unknown, not zero.
export function spoolDepth(agent: Agent): string {
  const hb = agent.lastHeartbeat;
  if (hb === undefined) {
    return "no heartbeat yet";
  }
  return `${hb.spoolPendingEvents.toString()} events (${formatBytes(hb.spoolPendingBytes)})`;
}

// Describes losses the last heartbeat reported, or "" when there are none.
export function agentLosses(agent: Agent): string {
  const hb = agent.lastHeartbeat;
  if (hb === undefined) {
    return "";
  }
  const parts: string[] = [];
  if (hb.spoolEvictedEvents > 0n) {
    parts.push(`${hb.spoolEvictedEvents.toString()} evicted`);
  }
  if (hb.emitDroppedEvents > 0n) {
    parts.push(`${hb.emitDroppedEvents.toString()} dropped`);
  }
  const unhealthy = hb.decoys.filter((d) => !d.healthy).length;
  if (unhealthy > 0) {
    parts.push(`${unhealthy} unhealthy decoy${unhealthy === 1 ? "" : "s"}`);
  }
  return parts.join(", ");
}

// Age of the last heartbeat in whole seconds at nowMs, or undefined.
export function heartbeatAgeSeconds(agent: Agent, nowMs: number): number | undefined {
  const at = agent.lastHeartbeat?.receivedAt;
  if (at === undefined) {
    return undefined;
  }
  return Math.max(0, Math.floor((nowMs - timestampMs(at)) / 1000));
}
