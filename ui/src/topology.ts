// Builds the agent → decky → service tree of the topology page from what
// the agent should run (its desired configuration) and what it reports
// running (the decoys of its last heartbeat).

import { parseDecoyConfig, type ConfiguredDecky } from "./decoyconfig";
import type { DecoyHealth } from "./gen/decnet/api/v1/agent_service_pb";

// State of one service in the tree:
// - healthy and unhealthy come from the last heartbeat;
// - pending: configured, but the agent has not applied the desired
//   version yet;
// - missing: configured and applied, but the heartbeat does not list it;
// - unknown: no heartbeat has reached this control plane process yet.
export type ServiceState = "healthy" | "unhealthy" | "pending" | "missing" | "unknown";

export interface ServiceNode {
  name: string;
  // From the desired configuration; "" when the service is only reported.
  persona: string;
  listen: string;
  // Address the service is bound to, from the heartbeat; "" when not
  // reported.
  address: string;
  state: ServiceState;
  lastError: string;
  // Whether the desired configuration and the heartbeat list the service.
  configured: boolean;
  reported: boolean;
  connectionsAccepted: bigint;
  connectionsRejected: bigint;
}

export interface DeckyNode {
  name: string;
  services: ServiceNode[];
}

export interface TopologyInput {
  // Decoys of the last heartbeat; undefined before the first one.
  decoys: readonly DecoyHealth[] | undefined;
  // Desired configuration document; "" while none is set.
  desiredConfig: string;
  desiredVersion: bigint;
  appliedVersion: bigint;
}

export interface AgentTopology {
  deckies: DeckyNode[];
  // True when a desired configuration is set; otherwise the tree shows
  // only what the heartbeat reports.
  hasDesiredConfig: boolean;
  // Why the desired configuration could not be read for the tree; "" when
  // it could. The agent validates the document on its own.
  configProblem: string;
}

export function buildTopology(input: TopologyInput): AgentTopology {
  const hasDesiredConfig = input.desiredVersion > 0n && input.desiredConfig.trim() !== "";
  let configured: ConfiguredDecky[] = [];
  let configProblem = "";
  if (hasDesiredConfig) {
    try {
      configured = parseDecoyConfig(input.desiredConfig);
    } catch (err) {
      configProblem = err instanceof Error ? err.message : String(err);
    }
  }

  // Reported decoys by decky and service name. A decky may run a service
  // name twice (two HTTP ports), so each key holds a queue matched in order.
  const reported = new Map<string, DecoyHealth[]>();
  for (const decoy of input.decoys ?? []) {
    const key = serviceKey(decoy.decky, decoy.service);
    const queue = reported.get(key) ?? [];
    queue.push(decoy);
    reported.set(key, queue);
  }

  const applied = input.appliedVersion >= input.desiredVersion;
  const unreportedState: ServiceState =
    input.decoys === undefined ? "unknown" : applied ? "missing" : "pending";

  const deckies = new Map<string, DeckyNode>();
  const deckyFor = (name: string): DeckyNode => {
    let node = deckies.get(name);
    if (node === undefined) {
      node = { name, services: [] };
      deckies.set(name, node);
    }
    return node;
  };

  for (const decky of configured) {
    const node = deckyFor(decky.name);
    for (const service of decky.services) {
      const decoy = reported.get(serviceKey(decky.name, service.name))?.shift();
      node.services.push({
        name: service.name,
        persona: service.persona,
        listen: service.listen,
        configured: true,
        ...(decoy === undefined ? unreported(unreportedState) : fromHeartbeat(decoy)),
      });
    }
  }
  // What is left was reported but not configured: the agent still runs an
  // older configuration, or no desired configuration is set.
  for (const decoy of input.decoys ?? []) {
    const queue = reported.get(serviceKey(decoy.decky, decoy.service));
    if (queue === undefined || queue[0] !== decoy) {
      continue;
    }
    queue.shift();
    deckyFor(decoy.decky).services.push({
      name: decoy.service,
      persona: "",
      listen: "",
      configured: false,
      ...fromHeartbeat(decoy),
    });
  }

  return { deckies: [...deckies.values()], hasDesiredConfig, configProblem };
}

function serviceKey(decky: string, service: string): string {
  return `${decky}\u0000${service}`;
}

type ReportedFields = Pick<
  ServiceNode,
  "address" | "state" | "lastError" | "reported" | "connectionsAccepted" | "connectionsRejected"
>;

function fromHeartbeat(decoy: DecoyHealth): ReportedFields {
  return {
    address: decoy.address,
    state: decoy.healthy ? "healthy" : "unhealthy",
    lastError: decoy.lastError,
    reported: true,
    connectionsAccepted: decoy.connectionsAccepted,
    connectionsRejected: decoy.connectionsRejected,
  };
}

function unreported(state: ServiceState): ReportedFields {
  return { address: "", state, lastError: "", reported: false, connectionsAccepted: 0n, connectionsRejected: 0n };
}

// Counts services by state, for an agent's summary line.
export function countStates(topology: AgentTopology): Record<ServiceState, number> {
  const counts: Record<ServiceState, number> = { healthy: 0, unhealthy: 0, pending: 0, missing: 0, unknown: 0 };
  for (const decky of topology.deckies) {
    for (const service of decky.services) {
      counts[service.state]++;
    }
  }
  return counts;
}

export const serviceStateLabels: Record<ServiceState, string> = {
  healthy: "healthy",
  unhealthy: "unhealthy",
  pending: "waiting for the agent to apply the configuration",
  missing: "configured, but not reported by the agent",
  unknown: "no heartbeat yet",
};

// Describes the desired and applied configuration versions of an agent.
export function configVersionSummary(desired: bigint, applied: bigint, configError: string): string {
  if (desired === 0n) {
    return applied === 0n
      ? "no desired configuration set; the agent runs its local decoy file"
      : `no desired configuration set; the agent reports version ${applied.toString()}`;
  }
  if (configError !== "") {
    const running = applied === 0n ? "its local decoy file" : `version ${applied.toString()}`;
    return `version ${desired.toString()} rejected by the agent, which still runs ${running}`;
  }
  if (applied >= desired) {
    return `version ${desired.toString()} applied`;
  }
  return `version ${desired.toString()} desired, version ${applied.toString()} applied`;
}

// What became of a configuration saved through SetAgentConfig.
export type ApplyOutcome =
  | { state: "waiting"; version: bigint }
  | { state: "applied"; version: bigint }
  | { state: "rejected"; version: bigint; error: string }
  // Another save took a newer version before the agent answered.
  | { state: "superseded"; version: bigint; newer: bigint }
  // No answer within the wait; connected tells whether the agent holds a
  // bridge connection, which decides when it receives the version.
  | { state: "no-answer"; version: bigint; connected: boolean };

// Decides the outcome of saving version from the agent as GetAgent returns
// it. errorBefore is the agent's config_error before the save: the store
// keeps an agent's last error until it reports again, so an unchanged
// error may belong to an older version and counts only once timedOut.
export function applyOutcome(
  agent: { appliedConfigVersion: bigint; desiredConfigVersion: bigint; configError: string; connected: boolean },
  version: bigint,
  errorBefore: string,
  timedOut: boolean,
): ApplyOutcome {
  if (agent.appliedConfigVersion >= version) {
    return { state: "applied", version };
  }
  if (agent.desiredConfigVersion > version) {
    return { state: "superseded", version, newer: agent.desiredConfigVersion };
  }
  if (agent.configError !== "" && (agent.configError !== errorBefore || timedOut)) {
    return { state: "rejected", version, error: agent.configError };
  }
  if (timedOut) {
    return { state: "no-answer", version, connected: agent.connected };
  }
  return { state: "waiting", version };
}
