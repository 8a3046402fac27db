import { describe, expect, it } from "vitest";

import { create } from "@bufbuild/protobuf";

import { WebhookFormat, WebhookSchema } from "./gen/decnet/api/v1/webhook_service_pb";
import {
  checkPrefix,
  checkSubjectPattern,
  checkSuppressionForm,
  checkWebhookForm,
  emptySuppressionForm,
  emptyWebhookForm,
  formFromWebhook,
  parseUtcMinute,
  type WebhookForm,
} from "./webhook";

const valid: WebhookForm = {
  ...emptyWebhookForm,
  name: " soc-slack ",
  url: "https://hooks.example.com/services/T000/B000",
  format: WebhookFormat.SLACK,
  subjects: "credential.>, webhook.incident",
  rate: "120",
};

describe("webhook form", () => {
  it("builds the settings of a valid form", () => {
    const checked = checkWebhookForm(valid, "create");
    expect(checked).toEqual({
      ok: true,
      settings: {
        name: "soc-slack",
        url: "https://hooks.example.com/services/T000/B000",
        format: WebhookFormat.SLACK,
        subjects: ["credential.>", "webhook.incident"],
        enabled: true,
        rateLimitPerMinute: 120,
        authorization: "",
        clearAuthorization: false,
      },
    });
  });

  it("requires a name, URL and subject on create", () => {
    const checked = checkWebhookForm({ ...emptyWebhookForm, subjects: "" }, "create");
    expect(checked.ok).toBe(false);
    if (!checked.ok) {
      expect(Object.keys(checked.errors).sort()).toEqual(["name", "subjects", "url"]);
    }
  });

  it("keeps the stored URL when an edit leaves it empty", () => {
    const checked = checkWebhookForm({ ...valid, url: "" }, "edit");
    expect(checked.ok).toBe(true);
    expect(checked.ok ? checked.settings.url : "unchecked").toBe("");
  });

  it("rejects URLs the server would refuse for their shape", () => {
    for (const url of ["ftp://example.com/x", "not a url", "https://user:pw@example.com/"]) {
      const checked = checkWebhookForm({ ...valid, url }, "create");
      expect(checked.ok ? "" : checked.errors.url).not.toBe("");
      expect(checked.ok).toBe(false);
    }
  });

  it("rejects malformed subject patterns", () => {
    expect(checkSubjectPattern("credential.>")).toBe("");
    expect(checkSubjectPattern("credential.*.detected")).toBe("");
    expect(checkSubjectPattern("credential..captured")).toContain("empty part");
    expect(checkSubjectPattern(">.credential")).toContain("last part");
    const checked = checkWebhookForm({ ...valid, subjects: "credential." }, "create");
    expect(checked.ok ? "" : checked.errors.subjects).toContain("empty part");
  });

  it("checks the rate range and leaves an empty rate to the default", () => {
    for (const rate of ["0", "6001", "1.5", "-3", "x"]) {
      expect(checkWebhookForm({ ...valid, rate }, "create").ok).toBe(false);
    }
    const checked = checkWebhookForm({ ...valid, rate: "" }, "create");
    expect(checked.ok).toBe(true);
    expect(checked.ok ? checked.settings.rateLimitPerMinute : -1).toBe(0);
    expect(checkWebhookForm({ ...valid, rate: "6000" }, "create").ok).toBe(true);
  });

  it("holds a Wazuh webhook to the Wazuh API's 30 requests a minute", () => {
    const wazuh = { ...valid, format: WebhookFormat.WAZUH };
    const over = checkWebhookForm({ ...wazuh, rate: "31" }, "create");
    expect(over.ok ? "" : over.errors.rate).toContain("from 1 to 30 per minute; empty means 30");
    const at = checkWebhookForm({ ...wazuh, rate: "30" }, "create");
    expect(at.ok ? at.settings.rateLimitPerMinute : -1).toBe(30);
    expect(at.ok ? at.settings.format : -1).toBe(WebhookFormat.WAZUH);
  });

  it("refuses a multi-line authorization and a value together with its removal", () => {
    expect(checkWebhookForm({ ...valid, authorization: "Bearer a\r\nX-Evil: 1" }, "create").ok).toBe(false);
    expect(checkWebhookForm({ ...valid, authorization: "Bearer k", clearAuthorization: true }, "edit").ok).toBe(false);
    const cleared = checkWebhookForm({ ...valid, clearAuthorization: true }, "edit");
    expect(cleared.ok).toBe(true);
    expect(cleared.ok ? cleared.settings.clearAuthorization : false).toBe(true);
  });

  it("prefills an edit without the write-only fields", () => {
    const w = create(WebhookSchema, {
      name: "hive",
      destination: "https://hive.example.com",
      format: WebhookFormat.THEHIVE,
      subjects: ["webhook.incident"],
      enabled: false,
      rateLimitPerMinute: 30,
      hasAuthorization: true,
    });
    expect(formFromWebhook(w)).toEqual({
      name: "hive",
      url: "",
      format: WebhookFormat.THEHIVE,
      subjects: "webhook.incident",
      enabled: false,
      rate: "30",
      authorization: "",
      clearAuthorization: false,
    });
  });
});

describe("suppression form", () => {
  it("needs at least one criterion", () => {
    expect(checkSuppressionForm({ ...emptySuppressionForm, reason: "why" })).toEqual({
      ok: false,
      error: "A rule needs a source prefix, agent, decky or time window.",
    });
  });

  it("checks IPv4 prefixes for host bits", () => {
    expect(checkPrefix("198.51.100.0/24")).toBe("");
    expect(checkPrefix("198.51.100.7/24")).toContain("host bits");
    expect(checkPrefix("300.1.1.0/24")).toContain("not a valid");
    expect(checkPrefix("2001:db8::/32")).toBe("");
    expect(checkPrefix("scanner")).toContain("not a CIDR");
  });

  it("reads times as UTC and orders the window", () => {
    const ts = parseUtcMinute("2026-12-05T01:30");
    expect(typeof ts).toBe("object");
    expect(typeof ts === "object" ? ts.seconds : 0n).toBe(BigInt(Date.UTC(2026, 11, 5, 1, 30) / 1000));
    expect(parseUtcMinute("")).toBeUndefined();
    expect(parseUtcMinute("tomorrow")).toBe("invalid");
    const backwards = checkSuppressionForm({
      ...emptySuppressionForm,
      notBefore: "2026-12-05T02:00",
      notAfter: "2026-12-05T01:00",
    });
    expect(backwards).toEqual({ ok: false, error: "The end of the window must be after its start." });
  });

  it("builds a rule from a prefix and reason", () => {
    const checked = checkSuppressionForm({ ...emptySuppressionForm, prefix: " 203.0.113.0/24 ", reason: " our scanner " });
    expect(checked).toEqual({
      ok: true,
      suppression: {
        webhookId: "",
        prefix: "203.0.113.0/24",
        agentId: "",
        decky: "",
        notBefore: undefined,
        notAfter: undefined,
        reason: "our scanner",
      },
    });
  });
});
