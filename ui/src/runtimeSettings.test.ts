import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { RuntimeSetting, SettingsSchema } from "./gen/decnet/api/v1/settings_service_pb";
import {
  cidrError,
  formFromSettings,
  parseRetentionSeconds,
  restoreRequest,
  updateRequest,
  validateForm,
  type RuntimeForm,
} from "./runtimeSettings";

const settings = create(SettingsSchema, {
  retention: { events: { seconds: 720n * 3600n } },
  auth: { requireAdminTotp: false },
  streamsPerUser: 8,
  webhooks: { allowHttp: false, allowedCidrs: ["10.20.0.0/16"] },
});
const initial = formFromSettings(settings);

function withChange(change: Partial<RuntimeForm>): RuntimeForm {
  return { ...initial, ...change };
}

describe("runtime settings form", () => {
  it("fills the form from the settings", () => {
    expect(initial).toEqual({
      retention: "30d",
      requireAdminTotp: false,
      streamsPerUser: "8",
      webhookAllowHttp: false,
      webhookCidrs: "10.20.0.0/16",
    });
  });

  it("parses retention in hours and days", () => {
    expect(parseRetentionSeconds("0")).toBe(0);
    expect(parseRetentionSeconds("720h")).toBe(720 * 3600);
    expect(parseRetentionSeconds(" 30d ")).toBe(720 * 3600);
    expect(parseRetentionSeconds("1h")).toBe(3600);
    expect(parseRetentionSeconds("5400s")).toBe(5400);
    expect(parseRetentionSeconds("90m")).toBe(5400);
  });

  it("rejects retention out of range or without a unit", () => {
    expect(parseRetentionSeconds("0h")).toMatch(/at least 1 hour/);
    expect(parseRetentionSeconds("59m")).toMatch(/at least 1 hour/);
    expect(parseRetentionSeconds("720")).toMatch(/hours or days/);
    expect(parseRetentionSeconds("-1h")).toMatch(/hours or days/);
    expect(parseRetentionSeconds("36501d")).toMatch(/at most 100 years/);
  });

  it("checks networks in CIDR notation", () => {
    expect(cidrError("10.0.0.0/8")).toBe("");
    expect(cidrError("fd00::/8")).toBe("");
    expect(cidrError("::ffff:10.0.0.0/104")).toBe("");
    expect(cidrError("10.0.0.1")).toMatch(/prefix length/);
    expect(cidrError("10.0.0.0/33")).toMatch(/1 to 32/);
    expect(cidrError("300.0.0.0/8")).toMatch(/not an IP address/);
    expect(cidrError("fd00:::1/64")).toMatch(/not an IP address/);
    expect(cidrError(":fd00::1/64")).toMatch(/not an IP address/);
    expect(cidrError("1:2:3:4:5:6:7:8:9/64")).toMatch(/not an IP address/);
    expect(cidrError("0.0.0.0/0")).toMatch(/every address/);
    expect(cidrError("::/0")).toMatch(/every address/);
  });

  it("names each invalid field", () => {
    const errors = validateForm(withChange({ retention: "10m", streamsPerUser: "101", webhookCidrs: "10.0.0.0/8\nnope/8" }));
    expect(Object.keys(errors).sort()).toEqual(["retention", "streamsPerUser", "webhookCidrs"]);
    expect(errors.streamsPerUser).toBe("Enter a whole number from 1 to 100.");
    expect(errors.webhookCidrs).toBe("nope/8: not an IP address");
    expect(validateForm(withChange({ streamsPerUser: "0" })).streamsPerUser).toBeDefined();
    expect(validateForm(withChange({ streamsPerUser: "2.5" })).streamsPerUser).toBeDefined();
    const many = Array.from({ length: 33 }, (_, i) => `10.${i}.0.0/16`).join("\n");
    expect(validateForm(withChange({ webhookCidrs: many })).webhookCidrs).toBe("At most 32 networks.");
    expect(validateForm(initial)).toEqual({});
  });

  it("sends only the fields that changed", () => {
    expect(updateRequest(initial, initial)).toBeUndefined();
    expect(updateRequest(initial, withChange({ retention: "720h" }))).toBeUndefined();

    const req = updateRequest(initial, withChange({ streamsPerUser: "2", webhookAllowHttp: true }));
    expect(req?.streamsPerUser).toBe(2);
    expect(req?.webhookAllowHttp).toBe(true);
    expect(req?.retentionEvents).toBeUndefined();
    expect(req?.requireAdminTotp).toBeUndefined();
    expect(req?.webhookAllowedCidrs).toBeUndefined();
  });

  it("sends retention in seconds and the full network list", () => {
    const req = updateRequest(initial, withChange({ retention: "0", webhookCidrs: "10.20.0.0/16, 192.168.1.0/24" }));
    expect(req?.retentionEvents?.seconds).toBe(0n);
    expect(updateRequest(initial, withChange({ retention: "48h" }))?.retentionEvents?.seconds).toBe(48n * 3600n);
    expect(req?.webhookAllowedCidrs?.cidrs).toEqual(["10.20.0.0/16", "192.168.1.0/24"]);

    const cleared = updateRequest(initial, withChange({ webhookCidrs: "" }));
    expect(cleared?.webhookAllowedCidrs?.cidrs).toEqual([]);
  });

  it("restores every overridden setting", () => {
    const req = restoreRequest([RuntimeSetting.RETENTION, RuntimeSetting.STREAMS_PER_USER]);
    expect(req.restoreDefaults).toEqual([RuntimeSetting.RETENTION, RuntimeSetting.STREAMS_PER_USER]);
  });
});
