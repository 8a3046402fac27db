// The export outputs table rendered to static markup.

import { create } from "@bufbuild/protobuf";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";

import { ExportOutputFormat, ExportOutputSchema } from "../gen/decnet/api/v1/export_service_pb";
import { ExportOutputsTable, RuntimeSettingsForm } from "./SettingsPage";

const healthy = create(ExportOutputSchema, {
  name: "siem",
  topics: ["credential.>"],
  applySuppression: true,
  destination: { case: "syslog", value: { address: "10.20.0.5:6514", tls: true, format: ExportOutputFormat.CEF } },
  stats: { delivered: 1200n, suppressed: 40n, queued: 3, lastDeliveredAt: { seconds: 1772409600n } },
});
const broken = create(ExportOutputSchema, {
  name: "splunk",
  destination: { case: "splunk", value: { url: "https://splunk.example:8088", tokenSet: true } },
  stats: { failed: 7n, lastError: "hec: status 403 code 4: Invalid token", lastErrorAt: { seconds: 1772409660n } },
});

describe("export outputs table", () => {
  const html = renderToStaticMarkup(<ExportOutputsTable outputs={[healthy, broken]} canTest busy={false} onTest={() => {}} />);

  it("shows each output's destination and counters", () => {
    expect(html).toContain("syslog/cef");
    expect(html).toContain("10.20.0.5:6514 (TLS)");
    expect(html).toContain('<td class="num">1200</td><td class="num">0</td><td class="num">0</td><td class="num">40</td><td class="num">3</td>');
    expect(html).toContain("2026-03-02 00:00:00");
    expect(html).toContain("https://splunk.example:8088 (token set)");
  });

  it("marks failing outputs and shows the last error with its time", () => {
    expect(html).toMatch(/<tr data-testid="export-output-splunk" class="warn">/);
    expect(html).toMatch(/<tr data-testid="export-output-siem">/);
    expect(html).toContain('2026-03-02 00:01:00 <span class="mono">hec: status 403 code 4: Invalid token</span>');
    expect(html).toContain("<td>never</td>");
  });

  it("offers a test only to admins", () => {
    expect(html.match(/>Test<\/button>/g)).toHaveLength(2);
    const viewer = renderToStaticMarkup(<ExportOutputsTable outputs={[healthy]} canTest={false} busy={false} onTest={() => {}} />);
    expect(viewer).not.toContain("Test</button>");
  });

  it("explains how to add outputs when there are none", () => {
    const empty = renderToStaticMarkup(<ExportOutputsTable outputs={[]} canTest busy={false} onTest={() => {}} />);
    expect(empty).toContain("--export-config");
  });
});

describe("runtime settings form", () => {
  const initial = {
    retention: "30d",
    requireAdminTotp: true,
    streamsPerUser: "8",
    webhookAllowHttp: false,
    webhookCidrs: "10.20.0.0/16",
  };
  const html = renderToStaticMarkup(<RuntimeSettingsForm initial={initial} busy={false} onSubmit={() => {}} />);

  it("shows the current values", () => {
    expect(html).toContain('name="runtime-retention" value="30d"');
    expect(html).toMatch(/name="runtime-require-admin-totp" checked=""/);
    expect(html).not.toMatch(/name="runtime-webhook-allow-http" checked=""/);
    expect(html).toContain('value="8"');
    expect(html).toContain(">10.20.0.0/16</textarea>");
  });

  it("disables saving while a save runs", () => {
    const busy = renderToStaticMarkup(<RuntimeSettingsForm initial={initial} busy onSubmit={() => {}} />);
    expect(busy).toContain('<button type="submit" disabled="">Save</button>');
  });
});
