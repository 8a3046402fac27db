// Rows of the settings page: each value GetSettings returns, with the
// `decnet server` flag or environment variable that sets it.

import type { Duration } from "@bufbuild/protobuf/wkt";

import { RuntimeSetting, StorageKind, type Settings } from "./gen/decnet/api/v1/settings_service_pb";

export interface SettingRow {
  label: string;
  value: string;
  // Flag or environment variable that sets the value; "" when none does.
  source: string;
}

export interface SettingGroup {
  title: string;
  rows: SettingRow[];
}

export function storageKindLabel(kind: StorageKind): string {
  switch (kind) {
    case StorageKind.SQLITE:
      return "sqlite";
    case StorageKind.POSTGRES:
      return "postgres";
    default:
      return "unknown";
  }
}

// Describes the event retention: "forever" for zero, otherwise whole days
// when it is a multiple of a day, else hours.
export function retentionLabel(duration: Duration | undefined): string {
  const seconds = Number(duration?.seconds ?? 0n);
  if (seconds <= 0) {
    return "forever (events are never pruned)";
  }
  const hours = seconds / 3600;
  if (Number.isInteger(hours / 24)) {
    const days = hours / 24;
    return `${days} day${days === 1 ? "" : "s"} (${hours}h)`;
  }
  return Number.isInteger(hours) ? `${hours}h` : `${seconds}s`;
}

function onOff(value: boolean): string {
  return value ? "yes" : "no";
}

function listOr(values: readonly string[], empty: string): string {
  return values.length === 0 ? empty : values.join(", ");
}

// Names the source of a runtime value: the admin's override when there
// is one, else the flag.
function runtimeSource(s: Settings, setting: RuntimeSetting, flag: string): string {
  return s.overridden.includes(setting) ? `an admin (overrides ${flag})` : flag;
}

export function settingGroups(s: Settings): SettingGroup[] {
  const storage = s.storage;
  const listen = s.listen;
  const auth = s.auth;
  const intel = s.intel;
  const exportSettings = s.export;
  const webhooks = s.webhooks;
  const sso = (auth?.oidcIssuer ?? "") !== "";

  return [
    {
      title: "Server",
      rows: [
        { label: "version", value: s.version || "unknown", source: "" },
        { label: "API and dashboard", value: listen?.api ?? "", source: "--api-listen" },
        { label: "enrollment", value: listen?.enroll ?? "", source: "--agent-listen" },
        { label: "agent bridge (UDP)", value: listen?.bridge ?? "", source: "--bridge-listen" },
        { label: "metrics", value: listen?.metrics || "disabled", source: "--metrics-listen" },
      ],
    },
    {
      title: "Storage",
      rows: [
        {
          label: "storage",
          value: storageKindLabel(storage?.kind ?? StorageKind.UNSPECIFIED),
          source: "--store, DECNET_DATABASE_URL or --database-url-file",
        },
        { label: "data directory", value: storage?.dataDir ?? "", source: "--data-dir" },
        {
          label: "shared Redis",
          value: onOff(storage?.redis === true),
          source: "--redis-url",
        },
        { label: "event retention", value: retentionLabel(s.retention?.events), source: runtimeSource(s, RuntimeSetting.RETENTION, "--retention") },
      ],
    },
    {
      title: "Sign-in",
      rows: [
        { label: "admins must use TOTP", value: onOff(auth?.requireAdminTotp === true), source: runtimeSource(s, RuntimeSetting.REQUIRE_ADMIN_TOTP, "--require-admin-totp") },
        { label: "single sign-on issuer", value: sso ? (auth?.oidcIssuer ?? "") : "off", source: "--oidc-issuer" },
        ...(sso
          ? [
              { label: "OIDC client id", value: auth?.oidcClientId ?? "", source: "--oidc-client-id" },
              { label: "OIDC redirect URL", value: auth?.oidcRedirectUrl ?? "", source: "--oidc-redirect-url" },
            ]
          : []),
      ],
    },
    {
      title: "Threat intel",
      rows: [
        {
          label: "providers",
          value: listOr(intel?.providers ?? [], "none"),
          source: "--intel-greynoise, --intel-feodo, --intel-drop, DECNET_INTEL_ABUSEIPDB_KEY, DECNET_INTEL_THREATFOX_KEY",
        },
        { label: "GeoIP location database", value: intel?.geoipLocation || "none", source: "--intel-geoip-location" },
        { label: "GeoIP ASN database", value: intel?.geoipAsn || "none", source: "--intel-geoip-asn" },
        {
          label: "look up private addresses",
          value: onOff(intel?.lookupNonPublic === true),
          source: "--intel-lookup-non-public",
        },
      ],
    },
    {
      title: "SIEM export",
      rows: [
        ...(exportSettings?.targets ?? []).map((t) => ({
          label: `output ${t.name}`,
          value: `${t.kind} → ${t.address}${t.topics.length > 0 ? ` (topics ${t.topics.join(", ")})` : ""}`,
          source: "--export-config",
        })),
        ...((exportSettings?.targets.length ?? 0) === 0
          ? [{ label: "outputs", value: "none", source: "--export-config" }]
          : []),
        {
          label: "private networks outputs may reach",
          value: listOr(exportSettings?.allowedCidrs ?? [], "none"),
          source: "--export-config",
        },
      ],
    },
    {
      title: "Webhooks",
      rows: [
        {
          label: "private networks webhooks may reach",
          value: listOr(webhooks?.allowedCidrs ?? [], "none"),
          source: runtimeSource(s, RuntimeSetting.WEBHOOK_ALLOWED_CIDRS, "--webhook-allow-cidr"),
        },
        { label: "http:// URLs accepted", value: onOff(webhooks?.allowHttp === true), source: runtimeSource(s, RuntimeSetting.WEBHOOK_ALLOW_HTTP, "--webhook-allow-http") },
      ],
    },
    {
      title: "Analysis",
      rows: [
        {
          label: "live streams per user",
          value: s.streamsPerUser.toString(),
          source: s.overridden.includes(RuntimeSetting.STREAMS_PER_USER) ? "an admin" : "",
        },
        {
          label: "ATT&CK rules file",
          value: s.attackRulesPath || "embedded default rules",
          source: "--attack-rules",
        },
      ],
    },
  ];
}
