// Form logic of the runtime settings an admin may change on the settings
// page: retention, the admin TOTP rule, the live stream cap and the
// webhook policy. The server checks the same bounds; checking them here
// too names the field at fault before a round trip.

import { create } from "@bufbuild/protobuf";
import type { Duration } from "@bufbuild/protobuf/wkt";

import {
  CidrListSchema,
  RuntimeSetting,
  UpdateSettingsRequestSchema,
  type Settings,
  type UpdateSettingsRequest,
} from "./gen/decnet/api/v1/settings_service_pb";

// Bounds, as in the control plane's livesettings package.
export const minRetentionHours = 1;
export const maxRetentionHours = 100 * 365 * 24;
export const maxStreamsPerUser = 100;
export const maxWebhookCidrs = 32;

export interface RuntimeForm {
  // Retention as typed: "0" keeps events forever, else a number with a
  // unit of s, m, h or d, such as "720h" or "30d".
  retention: string;
  requireAdminTotp: boolean;
  streamsPerUser: string;
  webhookAllowHttp: boolean;
  // One network in CIDR notation per line or separated by commas.
  webhookCidrs: string;
}

export type FormErrors = Partial<Record<keyof RuntimeForm, string>>;

// Formats a retention for the form: whole days as "30d", else hours.
export function retentionText(d: Duration | undefined): string {
  const seconds = Number(d?.seconds ?? 0n);
  if (seconds <= 0) {
    return "0";
  }
  const hours = seconds / 3600;
  if (Number.isInteger(hours / 24)) {
    return `${hours / 24}d`;
  }
  return Number.isInteger(hours) ? `${hours}h` : `${seconds}s`;
}

export function formFromSettings(s: Settings): RuntimeForm {
  return {
    retention: retentionText(s.retention?.events),
    requireAdminTotp: s.auth?.requireAdminTotp === true,
    streamsPerUser: s.streamsPerUser.toString(),
    webhookAllowHttp: s.webhooks?.allowHttp === true,
    webhookCidrs: (s.webhooks?.allowedCidrs ?? []).join("\n"),
  };
}

const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

// Parses a retention into seconds, or returns an error message. Minutes
// and seconds are accepted so that a flag value such as 90m, shown as
// "5400s", can be saved back unchanged.
export function parseRetentionSeconds(text: string): number | string {
  const t = text.trim();
  if (t === "0") {
    return 0;
  }
  const m = /^(\d+)\s*([smhd])$/.exec(t);
  if (m === null) {
    return 'Enter 0 (keep forever) or a number of hours or days, such as "720h" or "30d".';
  }
  const seconds = Number(m[1]) * (unitSeconds[m[2] ?? "s"] ?? 1);
  if (seconds < minRetentionHours * 3600) {
    return "Retention must be 0 (keep forever) or at least 1 hour.";
  }
  if (seconds > maxRetentionHours * 3600) {
    return "Retention must be at most 100 years.";
  }
  return seconds;
}

export function splitCidrs(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((c) => c.trim())
    .filter((c) => c !== "");
}

const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validIPv6(addr: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(addr) || addr.split("::").length > 2 || addr.includes(":::")) {
    return false;
  }
  // A single colon may not start or end the address; only "::" may.
  if ((addr.startsWith(":") && !addr.startsWith("::")) || (addr.endsWith(":") && !addr.endsWith("::"))) {
    return false;
  }
  let groups = addr.split(":");
  const last = groups[groups.length - 1] ?? "";
  let width = 8;
  if (last.includes(".")) {
    if (!ipv4.test(last)) {
      return false;
    }
    groups = groups.slice(0, -1);
    width = 6;
  }
  if (addr.includes("::")) {
    const filled = groups.filter((g) => g !== "");
    return filled.length < width && filled.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
  }
  return groups.length === width && groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g));
}

// Checks one network, returning an error message or "" when valid.
export function cidrError(cidr: string): string {
  const slash = cidr.indexOf("/");
  if (slash < 0) {
    return `${cidr}: add a prefix length, such as /24`;
  }
  const addr = cidr.slice(0, slash);
  const bitsText = cidr.slice(slash + 1);
  const v4 = ipv4.test(addr);
  if (!v4 && !validIPv6(addr)) {
    return `${cidr}: not an IP address`;
  }
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > (v4 ? 32 : 128)) {
    return `${cidr}: prefix length must be 1 to ${v4 ? 32 : 128}`;
  }
  if (Number(bitsText) === 0) {
    return `${cidr}: would allow every address`;
  }
  return "";
}

// Checks every field and returns the errors by field; empty when valid.
export function validateForm(form: RuntimeForm): FormErrors {
  const errors: FormErrors = {};
  const retention = parseRetentionSeconds(form.retention);
  if (typeof retention === "string") {
    errors.retention = retention;
  }
  const streams = form.streamsPerUser.trim();
  if (!/^\d+$/.test(streams) || Number(streams) < 1 || Number(streams) > maxStreamsPerUser) {
    errors.streamsPerUser = `Enter a whole number from 1 to ${maxStreamsPerUser}.`;
  }
  const cidrs = splitCidrs(form.webhookCidrs);
  if (cidrs.length > maxWebhookCidrs) {
    errors.webhookCidrs = `At most ${maxWebhookCidrs} networks.`;
  } else {
    const bad = cidrs.map(cidrError).filter((e) => e !== "");
    if (bad.length > 0) {
      errors.webhookCidrs = bad.join("; ");
    }
  }
  return errors;
}

// Builds the request that changes only the fields that differ from
// initial, or undefined when nothing changed. Call it on a valid form.
export function updateRequest(initial: RuntimeForm, form: RuntimeForm): UpdateSettingsRequest | undefined {
  const req = create(UpdateSettingsRequestSchema, {});
  let changed = false;
  const seconds = parseRetentionSeconds(form.retention);
  if (typeof seconds === "number" && seconds !== parseRetentionSeconds(initial.retention)) {
    req.retentionEvents = { $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos: 0 };
    changed = true;
  }
  if (form.requireAdminTotp !== initial.requireAdminTotp) {
    req.requireAdminTotp = form.requireAdminTotp;
    changed = true;
  }
  if (Number(form.streamsPerUser.trim()) !== Number(initial.streamsPerUser)) {
    req.streamsPerUser = Number(form.streamsPerUser.trim());
    changed = true;
  }
  if (form.webhookAllowHttp !== initial.webhookAllowHttp) {
    req.webhookAllowHttp = form.webhookAllowHttp;
    changed = true;
  }
  const cidrs = splitCidrs(form.webhookCidrs);
  if (cidrs.join(",") !== splitCidrs(initial.webhookCidrs).join(",")) {
    req.webhookAllowedCidrs = create(CidrListSchema, { cidrs });
    changed = true;
  }
  return changed ? req : undefined;
}

// Requests the flag values back for every overridden setting.
export function restoreRequest(overridden: readonly RuntimeSetting[]): UpdateSettingsRequest {
  return create(UpdateSettingsRequestSchema, { restoreDefaults: [...overridden] });
}

export function runtimeSettingLabel(s: RuntimeSetting): string {
  switch (s) {
    case RuntimeSetting.RETENTION:
      return "event retention";
    case RuntimeSetting.REQUIRE_ADMIN_TOTP:
      return "admins must use TOTP";
    case RuntimeSetting.STREAMS_PER_USER:
      return "live streams per user";
    case RuntimeSetting.WEBHOOK_ALLOW_HTTP:
      return "http:// URLs accepted";
    case RuntimeSetting.WEBHOOK_ALLOWED_CIDRS:
      return "private networks webhooks may reach";
    default:
      return "unknown";
  }
}
