import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { DecoyConfigSyntaxError, parseDecoyConfig, parseYaml } from "./decoyconfig";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { DecoyHealthSchema, type DecoyHealth } from "./gen/decnet/api/v1/agent_service_pb";
import { applyOutcome, buildTopology, configVersionSummary, countStates } from "./topology";

// The form the agent writes (go.yaml.in/yaml/v3, four-space indent).
const agentWritten = `deckies:
    - name: dev-01
      seed: b80af08b845d961f362e6481c6354556
      services:
        - name: ssh
          persona: openssh-9.2p1-debian12
          listen: 127.0.0.1:0
          options:
            login: after:3
        - name: http
          persona: nginx-1.22.1-debian12
          listen: 127.0.0.1:0
`;

// A hand-written file: two-space indent, sequences at their key's
// indentation, comments and quotes.
const handWritten = `# edge sensor
deckies:
- name: web-01   # public web server
  seed: "00112233445566778899aabbccddeeff"
  services:
  - name: http
    listen: '0.0.0.0:80'
  - name: http
    persona: "apache # 2.4"
    listen: 0.0.0.0:8080
    options: {}
- name: mail-01
  seed: ffeeddccbbaa99887766554433221100
  services:
  - {name: smtp}
`;

function decoy(fields: MessageInitShape<typeof DecoyHealthSchema>): DecoyHealth {
  return create(DecoyHealthSchema, fields);
}

describe("parseDecoyConfig", () => {
  it("reads the file the agent writes", () => {
    expect(parseDecoyConfig(agentWritten)).toEqual([
      {
        name: "dev-01",
        services: [
          { name: "ssh", persona: "openssh-9.2p1-debian12", listen: "127.0.0.1:0" },
          { name: "http", persona: "nginx-1.22.1-debian12", listen: "127.0.0.1:0" },
        ],
      },
    ]);
  });

  it("reads comments, quotes and compact sequences", () => {
    const withoutFlow = handWritten.replace("  - {name: smtp}\n", "  - name: smtp\n");
    expect(parseDecoyConfig(withoutFlow)).toEqual([
      {
        name: "web-01",
        services: [
          { name: "http", persona: "", listen: "0.0.0.0:80" },
          { name: "http", persona: "apache # 2.4", listen: "0.0.0.0:8080" },
        ],
      },
      { name: "mail-01", services: [{ name: "smtp", persona: "", listen: "" }] },
    ]);
  });

  it("rejects flow collections with the line number", () => {
    expect(() => parseDecoyConfig(handWritten)).toThrow(/line 15: flow collections/);
  });

  it("returns no deckies for an empty document", () => {
    expect(parseDecoyConfig("")).toEqual([]);
    expect(parseDecoyConfig("# nothing yet\n---\n")).toEqual([]);
  });

  const invalid: { name: string; text: string; message: RegExp }[] = [
    { name: "tab indentation", text: "deckies:\n\t- name: a\n", message: /line 2: tabs/ },
    { name: "bad indentation", text: "deckies:\n  - name: a\n     seed: b\n", message: /line 3: unexpected indentation/ },
    { name: "a line without a key", text: "deckies:\n  - name: a\n    just text\n", message: /line 3: expected "key: value"/ },
    { name: "a duplicate key", text: "deckies: []\ndeckies: []\n", message: /line 2: duplicate key deckies/ },
    { name: "an unterminated string", text: 'deckies:\n  - name: "a\n', message: /line 2: unterminated/ },
    { name: "a list at the top", text: "- a\n- b\n", message: /mapping with a deckies key/ },
    { name: "deckies as a string", text: "deckies: many\n", message: /deckies must be a list/ },
    { name: "services as a mapping", text: "deckies:\n  - name: a\n    services:\n      ssh: x\n", message: /decky a: services must be a list/ },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      expect(() => parseDecoyConfig(c.text)).toThrow(DecoyConfigSyntaxError);
      expect(() => parseDecoyConfig(c.text)).toThrow(c.message);
    });
  }

  it("reads lists of scalars", () => {
    expect(parseYaml("topics:\n  - event.>\n  - 'notice.*'\n")).toEqual({ topics: ["event.>", "notice.*"] });
  });

  it("keeps colons inside plain values", () => {
    expect(parseYaml("listen: '[::1]:22'\nurl: http://x:1/a\n")).toEqual({ listen: "[::1]:22", url: "http://x:1/a" });
  });
});

describe("buildTopology", () => {
  it("shows only the heartbeat when no desired configuration is set", () => {
    const topology = buildTopology({
      decoys: [
        decoy({ decky: "dev-01", service: "ssh", address: "127.0.0.1:2222", healthy: true }),
        decoy({ decky: "dev-01", service: "http", address: "127.0.0.1:8081", healthy: false, lastError: "bind: address in use" }),
      ],
      desiredConfig: "",
      desiredVersion: 0n,
      appliedVersion: 0n,
    });
    expect(topology.hasDesiredConfig).toBe(false);
    expect(topology.configProblem).toBe("");
    expect(topology.deckies).toHaveLength(1);
    const services = topology.deckies[0]?.services ?? [];
    expect(services.map((s) => [s.name, s.address, s.state, s.lastError, s.configured])).toEqual([
      ["ssh", "127.0.0.1:2222", "healthy", "", false],
      ["http", "127.0.0.1:8081", "unhealthy", "bind: address in use", false],
    ]);
  });

  it("joins the configuration with the heartbeat in configuration order", () => {
    const topology = buildTopology({
      decoys: [
        decoy({ decky: "dev-01", service: "http", address: "127.0.0.1:8081", healthy: true, connectionsAccepted: 4n }),
        decoy({ decky: "dev-01", service: "ssh", address: "127.0.0.1:2222", healthy: true }),
      ],
      desiredConfig: agentWritten,
      desiredVersion: 2n,
      appliedVersion: 2n,
    });
    expect(topology.hasDesiredConfig).toBe(true);
    const services = topology.deckies[0]?.services ?? [];
    expect(services.map((s) => [s.name, s.persona, s.listen, s.address, s.state])).toEqual([
      ["ssh", "openssh-9.2p1-debian12", "127.0.0.1:0", "127.0.0.1:2222", "healthy"],
      ["http", "nginx-1.22.1-debian12", "127.0.0.1:0", "127.0.0.1:8081", "healthy"],
    ]);
    expect(services[1]?.connectionsAccepted).toBe(4n);
  });

  it("matches repeated service names in order", () => {
    const topology = buildTopology({
      decoys: [
        decoy({ decky: "web-01", service: "http", address: "0.0.0.0:80", healthy: true }),
        decoy({ decky: "web-01", service: "http", address: "0.0.0.0:8080", healthy: false }),
      ],
      desiredConfig: handWritten.replace("  - {name: smtp}\n", "  - name: smtp\n"),
      desiredVersion: 1n,
      appliedVersion: 1n,
    });
    expect(topology.deckies.map((d) => d.name)).toEqual(["web-01", "mail-01"]);
    expect(topology.deckies[0]?.services.map((s) => [s.listen, s.address, s.state])).toEqual([
      ["0.0.0.0:80", "0.0.0.0:80", "healthy"],
      ["0.0.0.0:8080", "0.0.0.0:8080", "unhealthy"],
    ]);
    // Applied, yet the heartbeat does not list smtp.
    expect(topology.deckies[1]?.services[0]?.state).toBe("missing");
  });

  it("marks configured services pending until the agent applies the version", () => {
    const topology = buildTopology({
      decoys: [decoy({ decky: "old-01", service: "telnet", address: "0.0.0.0:23", healthy: true })],
      desiredConfig: agentWritten,
      desiredVersion: 3n,
      appliedVersion: 2n,
    });
    expect(topology.deckies.map((d) => d.name)).toEqual(["dev-01", "old-01"]);
    expect(topology.deckies[0]?.services.map((s) => s.state)).toEqual(["pending", "pending"]);
    const old = topology.deckies[1]?.services[0];
    expect(old?.configured).toBe(false);
    expect(old?.reported).toBe(true);
    expect(countStates(topology)).toEqual({ healthy: 1, unhealthy: 0, pending: 2, missing: 0, unknown: 0 });
  });

  it("marks services unknown before the first heartbeat", () => {
    const topology = buildTopology({ decoys: undefined, desiredConfig: agentWritten, desiredVersion: 1n, appliedVersion: 0n });
    expect(topology.deckies[0]?.services.map((s) => s.state)).toEqual(["unknown", "unknown"]);
  });

  it("falls back to the heartbeat when the configuration cannot be read", () => {
    const topology = buildTopology({
      decoys: [decoy({ decky: "dev-01", service: "ssh", address: "127.0.0.1:2222", healthy: true })],
      desiredConfig: "deckies: [",
      desiredVersion: 4n,
      appliedVersion: 3n,
    });
    expect(topology.configProblem).toMatch(/line 1/);
    expect(topology.deckies[0]?.services.map((s) => [s.name, s.state, s.configured])).toEqual([["ssh", "healthy", false]]);
  });
});

describe("configVersionSummary", () => {
  const cases: { desired: bigint; applied: bigint; error: string; want: string }[] = [
    { desired: 0n, applied: 0n, error: "", want: "no desired configuration set; the agent runs its local decoy file" },
    { desired: 2n, applied: 2n, error: "", want: "version 2 applied" },
    { desired: 3n, applied: 2n, error: "", want: "version 3 desired, version 2 applied" },
    { desired: 3n, applied: 2n, error: "bad seed", want: "version 3 rejected by the agent, which still runs version 2" },
    { desired: 1n, applied: 0n, error: "bad seed", want: "version 1 rejected by the agent, which still runs its local decoy file" },
  ];
  for (const c of cases) {
    it(`describes desired ${c.desired} applied ${c.applied}${c.error ? " with an error" : ""}`, () => {
      expect(configVersionSummary(c.desired, c.applied, c.error)).toBe(c.want);
    });
  }
});

describe("applyOutcome", () => {
  const agent = (fields: Partial<{ appliedConfigVersion: bigint; desiredConfigVersion: bigint; configError: string; connected: boolean }>) => ({
    appliedConfigVersion: 4n,
    desiredConfigVersion: 5n,
    configError: "",
    connected: true,
    ...fields,
  });

  it("reports the version applied", () => {
    expect(applyOutcome(agent({ appliedConfigVersion: 5n }), 5n, "", false)).toEqual({ state: "applied", version: 5n });
  });

  it("reports a new agent error at once", () => {
    expect(applyOutcome(agent({ configError: "decky \"a\": seed too short" }), 5n, "", false)).toEqual({
      state: "rejected",
      version: 5n,
      error: "decky \"a\": seed too short",
    });
  });

  it("waits while the error is the one from before the save", () => {
    expect(applyOutcome(agent({ configError: "old" }), 5n, "old", false)).toEqual({ state: "waiting", version: 5n });
    expect(applyOutcome(agent({ configError: "old" }), 5n, "old", true)).toEqual({ state: "rejected", version: 5n, error: "old" });
  });

  it("reports a newer save by someone else", () => {
    expect(applyOutcome(agent({ desiredConfigVersion: 6n }), 5n, "", false)).toEqual({ state: "superseded", version: 5n, newer: 6n });
  });

  it("reports no answer after the wait", () => {
    expect(applyOutcome(agent({ connected: false }), 5n, "", true)).toEqual({ state: "no-answer", version: 5n, connected: false });
  });
});
