// The topology branches rendered to static markup: what viewers and
// admins get for one agent, and the messages after a save.

import { create } from "@bufbuild/protobuf";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { AgentSchema, AgentStatus, GetAgentResponseSchema } from "../gen/decnet/api/v1/agent_service_pb";
import { AgentBranch, OutcomeNotice } from "./TopologyPage";

const agent = create(AgentSchema, {
  id: "0b7c6f4e-5d0a-4c3e-9e61-2f6d1b1f6a10",
  name: "edge-1",
  status: AgentStatus.DEGRADED,
  desiredConfigVersion: 3n,
  appliedConfigVersion: 2n,
  configError: 'decky "web-01": seed too short: 4 bytes, want at least 16',
  lastHeartbeat: {
    decoys: [
      { decky: "web-01", service: "http", address: "0.0.0.0:80", healthy: true },
      { decky: "web-01", service: "ssh", address: "0.0.0.0:22", healthy: false, lastError: "listen tcp 0.0.0.0:22: bind: address already in use" },
    ],
  },
});
const response = create(GetAgentResponseSchema, {
  agent,
  desiredConfig: new TextEncoder().encode("deckies:\n  - name: web-01\n    seed: 00112233\n    services:\n      - name: http\n        listen: 0.0.0.0:80\n"),
});

function render(isAdmin: boolean): string {
  return renderToStaticMarkup(<AgentBranch agent={agent} response={response} isAdmin={isAdmin} onSaved={() => {}} />);
}

describe("topology branch", () => {
  it("shows deckies, services and health to a viewer", () => {
    const html = render(false);
    expect(html).toContain("edge-1");
    expect(html).toContain("degraded");
    expect(html).toContain("web-01");
    expect(html).toContain("0.0.0.0:22");
    expect(html).toContain("bind: address already in use");
    expect(html).toContain("not in the desired configuration");
    expect(html).toContain("version 3 rejected by the agent, which still runs version 2");
    expect(html).toContain("seed too short");
  });

  it("offers the editor to admins only", () => {
    expect(render(false)).not.toContain("Edit desired configuration");
    expect(render(true)).toContain("Edit desired configuration");
  });

  it("uses native disclosure widgets for keyboard use", () => {
    const html = render(false);
    expect(html.match(/<summary>/g)?.length).toBe(2);
  });
});

describe("save outcome", () => {
  it("announces an agent rejection as an alert", () => {
    const html = renderToStaticMarkup(<OutcomeNotice outcome={{ state: "rejected", version: 4n, error: "no deckies: at least one is required" }} />);
    expect(html).toContain('role="alert"');
    expect(html).toContain("version 4");
    expect(html).toContain("no deckies: at least one is required");
  });

  it("explains an agent that is not connected", () => {
    const html = renderToStaticMarkup(<OutcomeNotice outcome={{ state: "no-answer", version: 4n, connected: false }} />);
    expect(html).toContain("receives the version when it reconnects");
  });
});
