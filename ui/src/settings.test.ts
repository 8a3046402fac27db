import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { RuntimeSetting, SettingsSchema, StorageKind } from "./gen/decnet/api/v1/settings_service_pb";
import { retentionLabel, settingGroups, storageKindLabel } from "./settings";

function rowValue(groups: ReturnType<typeof settingGroups>, label: string): string | undefined {
  return groups.flatMap((g) => g.rows).find((r) => r.label === label)?.value;
}

describe("settings display", () => {
  it("names the storage kinds", () => {
    expect(storageKindLabel(StorageKind.SQLITE)).toBe("sqlite");
    expect(storageKindLabel(StorageKind.POSTGRES)).toBe("postgres");
    expect(storageKindLabel(StorageKind.UNSPECIFIED)).toBe("unknown");
  });

  const retention: { ms: number | undefined; want: string }[] = [
    { ms: undefined, want: "forever (events are never pruned)" },
    { ms: 0, want: "forever (events are never pruned)" },
    { ms: 720 * 3_600_000, want: "30 days (720h)" },
    { ms: 24 * 3_600_000, want: "1 day (24h)" },
    { ms: 36 * 3_600_000, want: "36h" },
    { ms: 90_000, want: "90s" },
  ];
  for (const c of retention) {
    it(`describes a retention of ${c.ms ?? "unset"} ms`, () => {
      expect(retentionLabel(c.ms === undefined ? undefined : durationFromMs(c.ms))).toBe(c.want);
    });
  }

  it("shows defaults for the zero settings", () => {
    const groups = settingGroups(create(SettingsSchema, { streamsPerUser: 8 }));
    expect(groups.map((g) => g.title)).toEqual(["Server", "Storage", "Sign-in", "Threat intel", "SIEM export", "Webhooks", "Analysis"]);
    expect(rowValue(groups, "metrics")).toBe("disabled");
    expect(rowValue(groups, "single sign-on issuer")).toBe("off");
    expect(rowValue(groups, "OIDC client id")).toBeUndefined();
    expect(rowValue(groups, "providers")).toBe("none");
    expect(rowValue(groups, "outputs")).toBe("none");
    expect(rowValue(groups, "ATT&CK rules file")).toBe("embedded default rules");
    expect(rowValue(groups, "live streams per user")).toBe("8");
  });

  it("shows configured values with their flags", () => {
    const groups = settingGroups(
      create(SettingsSchema, {
        version: "1.2.3",
        storage: { kind: StorageKind.SQLITE, dataDir: "/var/lib/decnet" },
        auth: { requireAdminTotp: true, oidcIssuer: "https://sso.example", oidcClientId: "decnet" },
        intel: { providers: ["greynoise", "spamhaus_drop"] },
        export: {
          targets: [{ name: "siem", kind: "syslog", address: "10.0.0.5:6514", topics: ["event.>"] }],
          allowedCidrs: ["10.0.0.0/24"],
        },
        webhooks: { allowedCidrs: ["10.20.0.0/16"], allowHttp: true },
      }),
    );
    expect(rowValue(groups, "storage")).toBe("sqlite");
    expect(rowValue(groups, "admins must use TOTP")).toBe("yes");
    expect(rowValue(groups, "OIDC client id")).toBe("decnet");
    expect(rowValue(groups, "providers")).toBe("greynoise, spamhaus_drop");
    expect(rowValue(groups, "output siem")).toBe("syslog → 10.0.0.5:6514 (topics event.>)");
    expect(rowValue(groups, "outputs")).toBeUndefined();
    expect(rowValue(groups, "private networks webhooks may reach")).toBe("10.20.0.0/16");
    const storage = groups.find((g) => g.title === "Storage")?.rows.find((r) => r.label === "storage");
    expect(storage?.source).toContain("--store");
  });
});

describe("overridden runtime settings", () => {
  it("name the admin as their source and keep the flag for the rest", () => {
    const groups = settingGroups(
      create(SettingsSchema, {
        streamsPerUser: 3,
        overridden: [RuntimeSetting.RETENTION, RuntimeSetting.STREAMS_PER_USER],
      }),
    );
    const source = (label: string) => groups.flatMap((g) => g.rows).find((r) => r.label === label)?.source;
    expect(source("event retention")).toBe("an admin (overrides --retention)");
    expect(source("live streams per user")).toBe("an admin");
    expect(source("admins must use TOTP")).toBe("--require-admin-totp");
    expect(source("http:// URLs accepted")).toBe("--webhook-allow-http");
  });
});
