import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { agentLosses, agentStatusLabel, heartbeatAgeSeconds, spoolDepth } from "./fleet";
import { AgentSchema, AgentStatus } from "./gen/decnet/api/v1/agent_service_pb";

describe("fleet display", () => {
  it("reports no spool depth before the first heartbeat", () => {
    const agent = create(AgentSchema, { status: AgentStatus.ONLINE });
    expect(spoolDepth(agent)).toBe("no heartbeat yet");
    expect(agentLosses(agent)).toBe("");
    expect(heartbeatAgeSeconds(agent, 0)).toBeUndefined();
  });

  it("reads spool depth and losses from the last heartbeat", () => {
    const agent = create(AgentSchema, {
      status: AgentStatus.DEGRADED,
      lastHeartbeat: {
        receivedAt: timestampFromMs(10_000),
        spoolPendingEvents: 42n,
        spoolPendingBytes: 3072n,
        spoolEvictedEvents: 2n,
        emitDroppedEvents: 1n,
        decoys: [
          { decky: "d", service: "ssh", healthy: true },
          { decky: "d", service: "http", healthy: false, lastError: "bind" },
        ],
      },
    });
    expect(spoolDepth(agent)).toBe("42 events (3.0 KiB)");
    expect(agentLosses(agent)).toBe("2 evicted, 1 dropped, 1 unhealthy decoy");
    expect(heartbeatAgeSeconds(agent, 25_500)).toBe(15);
    expect(heartbeatAgeSeconds(agent, 5_000)).toBe(0);
  });

  const labels = [
    { status: AgentStatus.ONLINE, revoked: false, want: "online" },
    { status: AgentStatus.DEGRADED, revoked: false, want: "degraded" },
    { status: AgentStatus.OFFLINE, revoked: false, want: "offline" },
    { status: AgentStatus.UNSPECIFIED, revoked: false, want: "unknown" },
    { status: AgentStatus.ONLINE, revoked: true, want: "decommissioned" },
  ];
  for (const c of labels) {
    it(`labels ${AgentStatus[c.status]}${c.revoked ? " revoked" : ""} as ${c.want}`, () => {
      expect(agentStatusLabel(create(AgentSchema, { status: c.status, revoked: c.revoked }))).toBe(c.want);
    });
  }
});
