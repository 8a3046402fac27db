// Validation and labels of the webhooks page. The server checks every field
// again; these checks explain a mistake before the round trip.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, type Timestamp } from "@bufbuild/protobuf/wkt";

import {
  WebhookBreakerState,
  WebhookFormat,
  WebhookOutcome,
  type Webhook,
  type WebhookSettingsSchema,
  type WebhookSuppressionSchema,
} from "./gen/decnet/api/v1/webhook_service_pb";

// Limits of the server's subscription check.
const maxNameBytes = 100;
const maxUrlBytes = 2048;
const maxSubjects = 32;
const maxRate = 6000;
// The Wazuh API takes 30 requests a minute, and the server defaults a
// Wazuh webhook to that.
const maxWazuhRate = 30;
const maxAuthorizationBytes = 4096;

export const formatChoices: readonly { value: WebhookFormat; label: string }[] = [
  { value: WebhookFormat.GENERIC, label: "generic JSON" },
  { value: WebhookFormat.SLACK, label: "Slack" },
  { value: WebhookFormat.TEAMS, label: "Microsoft Teams" },
  { value: WebhookFormat.DISCORD, label: "Discord" },
  { value: WebhookFormat.THEHIVE, label: "TheHive" },
  { value: WebhookFormat.WAZUH, label: "Wazuh" },
];

export function formatLabel(f: WebhookFormat): string {
  return formatChoices.find((c) => c.value === f)?.label ?? "generic JSON";
}

export function breakerLabel(b: WebhookBreakerState): string {
  switch (b) {
    case WebhookBreakerState.CLOSED:
      return "closed";
    case WebhookBreakerState.OPEN:
      return "open";
    case WebhookBreakerState.HALF_OPEN:
      return "half-open";
    default:
      return "unknown";
  }
}

// Explains the breaker state for its tooltip.
export function breakerHint(b: WebhookBreakerState): string {
  switch (b) {
    case WebhookBreakerState.CLOSED:
      return "deliveries flow normally";
    case WebhookBreakerState.OPEN:
      return "too many failures in a row: deliveries wait before the next try";
    case WebhookBreakerState.HALF_OPEN:
      return "one trial delivery decides whether deliveries resume";
    default:
      return "";
  }
}

export function outcomeLabel(o: WebhookOutcome): string {
  switch (o) {
    case WebhookOutcome.DELIVERED:
      return "delivered";
    case WebhookOutcome.RETRY:
      return "will retry";
    case WebhookOutcome.FAILED:
      return "failed";
    default:
      return "unknown";
  }
}

export interface WebhookForm {
  name: string;
  url: string;
  format: WebhookFormat;
  subjects: string;
  enabled: boolean;
  rate: string;
  authorization: string;
  clearAuthorization: boolean;
}

export const emptyWebhookForm: WebhookForm = {
  name: "",
  url: "",
  format: WebhookFormat.GENERIC,
  subjects: "credential.>",
  enabled: true,
  rate: "",
  authorization: "",
  clearAuthorization: false,
};

// The form for editing w. URL and authorization are write-only, so they
// start empty, which keeps the stored values.
export function formFromWebhook(w: Webhook): WebhookForm {
  return {
    name: w.name,
    url: "",
    format: w.format === WebhookFormat.UNSPECIFIED ? WebhookFormat.GENERIC : w.format,
    subjects: w.subjects.join(", "),
    enabled: w.enabled,
    rate: w.rateLimitPerMinute === 0 ? "" : String(w.rateLimitPerMinute),
    authorization: "",
    clearAuthorization: false,
  };
}

export type WebhookSettingsInit = MessageInitShape<typeof WebhookSettingsSchema>;

export type FormErrors = Partial<Record<keyof WebhookForm, string>>;

export type CheckedWebhook = { ok: true; settings: WebhookSettingsInit } | { ok: false; errors: FormErrors };

const utf8 = new TextEncoder();

function byteLength(s: string): number {
  return utf8.encode(s).length;
}

// Splits subject patterns on commas and white space.
export function parseSubjects(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

// Returns what is wrong with a NATS-style pattern, or "".
export function checkSubjectPattern(p: string): string {
  const tokens = p.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i] ?? "";
    if (tok === "") {
      return `"${p}" has an empty part; parts are separated by single dots`;
    }
    if (tok === ">" && i !== tokens.length - 1) {
      return `">" must be the last part of "${p}"`;
    }
  }
  return "";
}

// Returns what is wrong with a destination URL, or "". Only the shape is
// checked here: the server rejects private and loopback destinations
// according to its own allow-list.
export function checkWebhookUrl(raw: string): string {
  if (byteLength(raw) > maxUrlBytes) {
    return `The URL is longer than ${maxUrlBytes} bytes.`;
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "The URL does not parse; it should look like https://hooks.example.com/…";
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    return "The URL must start with https:// (http:// only where the server allows it).";
  }
  if (u.username !== "" || u.password !== "") {
    return "Put credentials in the Authorization field, not in the URL.";
  }
  if (u.hostname === "") {
    return "The URL needs a host.";
  }
  return "";
}

// Checks the form and builds the settings to send. In edit mode an empty
// URL or authorization keeps the stored one.
export function checkWebhookForm(form: WebhookForm, mode: "create" | "edit"): CheckedWebhook {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (name === "") {
    errors.name = "Name the webhook, such as soc-slack.";
  } else if (byteLength(name) > maxNameBytes) {
    errors.name = `The name is longer than ${maxNameBytes} bytes.`;
  }

  const url = form.url.trim();
  if (url === "") {
    if (mode === "create") {
      errors.url = "Enter the destination URL.";
    }
  } else {
    const problem = checkWebhookUrl(url);
    if (problem !== "") {
      errors.url = problem;
    }
  }

  const subjects = parseSubjects(form.subjects);
  if (subjects.length === 0) {
    errors.subjects = 'Enter at least one subject pattern, such as "credential.>".';
  } else if (subjects.length > maxSubjects) {
    errors.subjects = `At most ${maxSubjects} subject patterns.`;
  } else {
    const problem = subjects.map(checkSubjectPattern).find((p) => p !== "");
    if (problem !== undefined) {
      errors.subjects = problem;
    }
  }

  let rate = 0;
  const rateText = form.rate.trim();
  const [rateMax, rateDefault] = form.format === WebhookFormat.WAZUH ? [maxWazuhRate, maxWazuhRate] : [maxRate, 60];
  if (rateText !== "") {
    rate = Number(rateText);
    if (!/^\d+$/.test(rateText) || rate < 1 || rate > rateMax) {
      errors.rate = `The rate is a whole number from 1 to ${rateMax} per minute; empty means ${rateDefault}.`;
    }
  }

  const authorization = form.authorization.trim();
  if (byteLength(authorization) > maxAuthorizationBytes || /[\r\n\0]/.test(authorization)) {
    errors.authorization = `The Authorization value is one line of at most ${maxAuthorizationBytes} bytes.`;
  } else if (authorization !== "" && form.clearAuthorization) {
    errors.authorization = "Either enter a new Authorization value or remove it, not both.";
  }

  if (Object.keys(errors).length > 0) {
    return { ok: false, errors };
  }
  return {
    ok: true,
    settings: {
      name,
      url,
      format: form.format,
      subjects,
      enabled: form.enabled,
      rateLimitPerMinute: rate,
      authorization,
      clearAuthorization: mode === "edit" && form.clearAuthorization,
    },
  };
}

// How long the replaced secret keeps signing after a rotation.
export const graceChoices: readonly { label: string; seconds: number }[] = [
  { label: "24 hours (default)", seconds: 24 * 3600 },
  { label: "1 hour", seconds: 3600 },
  { label: "7 days", seconds: 7 * 24 * 3600 },
  { label: "30 days", seconds: 30 * 24 * 3600 },
  { label: "none: the old secret stops now", seconds: 0 },
];

export interface SuppressionForm {
  webhookId: string;
  prefix: string;
  agentId: string;
  decky: string;
  // "YYYY-MM-DDTHH:MM" from a datetime-local field, read as UTC.
  notBefore: string;
  notAfter: string;
  reason: string;
}

export const emptySuppressionForm: SuppressionForm = {
  webhookId: "",
  prefix: "",
  agentId: "",
  decky: "",
  notBefore: "",
  notAfter: "",
  reason: "",
};

export type SuppressionInit = MessageInitShape<typeof WebhookSuppressionSchema>;

export type CheckedSuppression = { ok: true; suppression: SuppressionInit } | { ok: false; error: string };

// Parses "YYYY-MM-DDTHH:MM[:SS]" as UTC.
export function parseUtcMinute(text: string): Timestamp | undefined | "invalid" {
  if (text.trim() === "") {
    return undefined;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (m === null) {
    return "invalid";
  }
  const [, y, mo, d, h, mi, s] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? "0"));
  return Number.isNaN(ms) ? "invalid" : timestampFromMs(ms);
}

// Returns what is wrong with a CIDR prefix, or "". IPv4 prefixes are
// checked for host bits here; IPv6 ones only by the server.
export function checkPrefix(prefix: string): string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(prefix);
  if (m === null) {
    return `"${prefix}" is not a CIDR prefix such as 198.51.100.0/24.`;
  }
  const [, addr = "", lenText = ""] = m;
  const len = Number(lenText);
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (v4 !== null) {
    const octets = v4.slice(1).map(Number);
    if (octets.some((o) => o > 255) || len > 32) {
      return `"${prefix}" is not a valid IPv4 prefix.`;
    }
    const value = octets.reduce((acc, o) => acc * 256 + o, 0);
    const hostBits = 2 ** (32 - len);
    if (value % hostBits !== 0) {
      return `"${prefix}" has host bits set; use the network address.`;
    }
    return "";
  }
  if (addr.includes(":") && len <= 128 && /^[0-9A-Fa-f:.]+$/.test(addr)) {
    return "";
  }
  return `"${prefix}" is not a CIDR prefix such as 198.51.100.0/24.`;
}

export function checkSuppressionForm(form: SuppressionForm): CheckedSuppression {
  const prefix = form.prefix.trim();
  if (prefix !== "") {
    const problem = checkPrefix(prefix);
    if (problem !== "") {
      return { ok: false, error: problem };
    }
  }
  const notBefore = parseUtcMinute(form.notBefore);
  const notAfter = parseUtcMinute(form.notAfter);
  if (notBefore === "invalid" || notAfter === "invalid") {
    return { ok: false, error: "Times are YYYY-MM-DD HH:MM in UTC." };
  }
  if (notBefore !== undefined && notAfter !== undefined && notAfter.seconds <= notBefore.seconds) {
    return { ok: false, error: "The end of the window must be after its start." };
  }
  const agentId = form.agentId.trim();
  const decky = form.decky.trim();
  if (prefix === "" && agentId === "" && decky === "" && notBefore === undefined && notAfter === undefined) {
    return { ok: false, error: "A rule needs a source prefix, agent, decky or time window." };
  }
  return {
    ok: true,
    suppression: {
      webhookId: form.webhookId,
      prefix,
      agentId,
      decky,
      notBefore,
      notAfter,
      reason: form.reason.trim(),
    },
  };
}
