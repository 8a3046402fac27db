import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { ExportOutputFormat, ExportOutputSchema } from "./gen/decnet/api/v1/export_service_pb";
import { outputDestination, outputFailing, outputKind, outputTopics } from "./exportOutputs";

const syslog = create(ExportOutputSchema, {
  name: "siem",
  topics: ["event.auth.attempt", "credential.>"],
  destination: { case: "syslog", value: { address: "10.20.0.5:6514", tls: true, format: ExportOutputFormat.CEF } },
});
const file = create(ExportOutputSchema, {
  name: "archive",
  destination: { case: "lines", value: { path: "/var/log/decnet/events.ndjson", format: ExportOutputFormat.JSON } },
});
const splunk = create(ExportOutputSchema, {
  name: "splunk",
  destination: { case: "splunk", value: { url: "https://splunk.example:8088", tokenSet: true, index: "honeypot" } },
});
const elastic = create(ExportOutputSchema, {
  name: "elastic",
  destination: { case: "elastic", value: { url: "https://es.example:9200", index: "decnet", auth: "api_key" } },
});

describe("export output labels", () => {
  it("names the kind and format", () => {
    expect([syslog, file, splunk, elastic].map(outputKind)).toEqual(["syslog/cef", "lines/json", "splunk", "elasticsearch"]);
  });

  it("describes the destination with TLS and credential state", () => {
    expect(outputDestination(syslog)).toBe("10.20.0.5:6514 (TLS)");
    expect(outputDestination(file)).toBe("/var/log/decnet/events.ndjson");
    expect(outputDestination(splunk)).toBe("https://splunk.example:8088, index honeypot (token set)");
    expect(outputDestination(elastic)).toBe("https://es.example:9200, index decnet (auth api_key)");
  });

  it("lists topics, all when none", () => {
    expect(outputTopics(syslog)).toBe("event.auth.attempt, credential.>");
    expect(outputTopics(file)).toBe("all");
  });
});

describe("export output health", () => {
  const at = (seconds: bigint) => ({ seconds, nanos: 0 });

  it("flags lost records and unrecovered errors", () => {
    const cases: [string, Parameters<typeof create<typeof ExportOutputSchema>>[1], boolean][] = [
      ["idle", { stats: {} }, false],
      ["delivering", { stats: { delivered: 10n, lastDeliveredAt: at(100n) } }, false],
      ["recovered", { stats: { delivered: 10n, lastErrorAt: at(90n), lastDeliveredAt: at(100n) } }, false],
      ["erroring", { stats: { delivered: 10n, lastErrorAt: at(110n), lastDeliveredAt: at(100n) } }, true],
      ["never delivered", { stats: { lastErrorAt: at(110n) } }, true],
      ["dropped", { stats: { dropped: 1n } }, true],
      ["failed", { stats: { failed: 2n, lastDeliveredAt: at(100n) } }, true],
    ];
    for (const [name, init, want] of cases) {
      expect(outputFailing(create(ExportOutputSchema, init)), name).toBe(want);
    }
  });
});
