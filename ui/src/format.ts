// Formatting of events and attackers for display. Everything an attacker
// controls (principals, command lines, HTTP targets, secrets) goes through
// escapeControl before it is shown, because control and bidirectional
// characters in those strings can hide or reorder what the analyst reads.

import { timestampMs, type Timestamp } from "@bufbuild/protobuf/wkt";

import {
  AuthOutcome,
  type AuthAttempt,
  type ClientFingerprint,
  type Endpoint,
  type Event,
} from "./gen/decnet/event/v1/event_pb";

// C0 and C1 controls, DEL, zero-width characters, bidirectional embeddings,
// overrides and isolates, and the byte order mark.
const hiddenCharacters =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/gu;

// Replaces characters that are invisible or reorder text with \xNN or
// \u{NNNN} escapes, so they appear in the output instead of acting on it.
export function escapeControl(text: string): string {
  return text.replace(hiddenCharacters, (ch) => {
    const code = ch.codePointAt(0) ?? 0;
    if (code <= 0xff) {
      return `\\x${code.toString(16).padStart(2, "0")}`;
    }
    return `\\u{${code.toString(16).padStart(4, "0")}}`;
  });
}

function pad(value: number, width = 2): string {
  return value.toString().padStart(width, "0");
}

// Formats a timestamp as "YYYY-MM-DD HH:MM:SS" in UTC, so analysts in
// different time zones read the same value. Returns "" when it is unset.
export function formatDateTime(ts: Timestamp | undefined): string {
  if (ts === undefined) {
    return "";
  }
  const d = new Date(timestampMs(ts));
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}

// Formats the UTC time of day with milliseconds, "HH:MM:SS.mmm", for the
// event feed where the date is mostly today.
export function formatTimeOfDay(ts: Timestamp | undefined): string {
  if (ts === undefined) {
    return "";
  }
  const d = new Date(timestampMs(ts));
  return (
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `.${pad(d.getUTCMilliseconds(), 3)}`
  );
}

// Formats an address and port as a URL authority would: IPv6 addresses get
// brackets, and a zero port is left out.
export function formatEndpoint(endpoint: Endpoint | undefined): string {
  if (endpoint === undefined || endpoint.address === "") {
    return "";
  }
  const host = endpoint.address.includes(":") ? `[${endpoint.address}]` : endpoint.address;
  return endpoint.port === 0 ? host : `${host}:${endpoint.port}`;
}

// Formats a duration in milliseconds with at most two units: "850ms",
// "12.3s", "4m05s", "2h07m".
export function formatDuration(ms: bigint | number): string {
  const total = Number(ms);
  if (total < 1000) {
    return `${total}ms`;
  }
  if (total < 60_000) {
    return `${(Math.floor(total / 100) / 10).toFixed(1)}s`;
  }
  const seconds = Math.floor(total / 1000);
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)}m${pad(seconds % 60)}s`;
  }
  return `${Math.floor(seconds / 3600)}h${pad(Math.floor(seconds / 60) % 60)}m`;
}

const byteUnits = ["KiB", "MiB", "GiB", "TiB"];

// Formats a byte count with binary units: "512 B", "1.5 KiB".
export function formatBytes(bytes: bigint | number): string {
  let value = Number(bytes);
  if (value < 1024) {
    return `${value} B`;
  }
  let unit = -1;
  while (value >= 1024 && unit < byteUnits.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${byteUnits[unit]}`;
}

// Shortens a UUID to its last eight hexadecimal digits for dense tables;
// the full id stays available in a tooltip. The ids are UUIDv7, whose
// leading digits are a timestamp shared by ids created close together,
// while the trailing digits are random.
export function shortId(id: string): string {
  return id.length > 8 ? id.slice(-8) : id;
}

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    out += b.toString(16).padStart(2, "0");
  }
  return out;
}

export function outcomeLabel(outcome: AuthOutcome): string {
  switch (outcome) {
    case AuthOutcome.ACCEPTED:
      return "accepted";
    case AuthOutcome.REJECTED:
      return "rejected";
    default:
      return "unknown";
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

// Secret kinds whose bytes are text meant to be read or copied: a
// password, or an NTLM response as the hashcat line that cracks it.
const textSecretKinds = new Set(["plaintext", "ntlmssp_v1", "ntlmssp_v2"]);

// Formats the secret of an authentication attempt for display after the
// analyst clicks to reveal it. A plaintext secret or an NTLM hashcat line is
// shown as text, with control characters escaped, when it is valid UTF-8. A
// public key is shown by its type and fingerprint. Everything else
// (challenge-responses, hashes, secrets that are not UTF-8) is shown as
// hexadecimal.
export function formatSecret(attempt: AuthAttempt): string {
  if (attempt.secretKind === "ssh_publickey" && attempt.keyFingerprint !== "") {
    return `${attempt.keyType} ${attempt.keyFingerprint}`.trim();
  }
  if (attempt.secret.length === 0) {
    return "(empty)";
  }
  if (textSecretKinds.has(attempt.secretKind)) {
    try {
      return escapeControl(utf8.decode(attempt.secret));
    } catch {
      // Not UTF-8: fall through to hexadecimal.
    }
  }
  return `hex:${toHex(attempt.secret)}`;
}

// Summarizes the payload of an event on one line. For an authentication
// attempt the summary leaves the secret out; the feed shows it on request.
export function summarizeEvent(event: Event): string {
  const payload = event.payload;
  switch (payload.case) {
    case "connectionOpened":
      return `${payload.value.transport || "connection"} opened`;

    case "connectionClosed": {
      const closed = payload.value;
      const reason = closed.reason === "" ? "" : ` (${escapeControl(closed.reason)})`;
      return (
        `closed${reason} after ${formatDuration(closed.durationMs)}, ` +
        `${formatBytes(closed.bytesReceived)} in, ${formatBytes(closed.bytesSent)} out`
      );
    }

    case "connectionRejected": {
      const rejected = payload.value;
      const reason = rejected.reason === "" ? "" : ` (${escapeControl(rejected.reason)})`;
      const noun = rejected.count === 1n ? "connection" : "connections";
      return `${rejected.count} ${noun} rejected${reason}`;
    }

    case "authAttempt": {
      const attempt = payload.value;
      return (
        `${escapeControl(attempt.principal) || "(no principal)"} via ${attempt.mechanism} ` +
        `[${attempt.secretKind}] ${outcomeLabel(attempt.outcome)}`
      );
    }

    case "command": {
      const command = payload.value;
      const channel = command.channel === "" ? "" : `${escapeControl(command.channel)}: `;
      return `${channel}${escapeControl(command.line)}`;
    }

    case "httpRequest": {
      const request = payload.value;
      const status = request.status === 0 ? "" : ` -> ${request.status}`;
      const agent = request.userAgent === "" ? "" : ` "${escapeControl(request.userAgent)}"`;
      return `${escapeControl(request.method)} ${escapeControl(request.target)}${status}${agent}`;
    }

    case "clientFingerprinted":
      return describeFingerprint(payload.value);

    default:
      return escapeControl(event.kind);
  }
}

// Names a client by what its handshake gave away: the SSH identification
// line and HASSH, or the TLS JA4 and JA3.
export function describeFingerprint(fp: ClientFingerprint): string {
  const parts: string[] = [];
  if (fp.sshClientVersion !== "") {
    parts.push(escapeControl(fp.sshClientVersion));
  }
  if (fp.hassh !== "") {
    parts.push(`HASSH ${fp.hassh}`);
  }
  if (fp.ja4 !== "") {
    parts.push(`JA4 ${escapeControl(fp.ja4)}`);
  }
  if (fp.ja3 !== "") {
    parts.push(`JA3 ${fp.ja3}`);
  }
  return parts.length === 0 ? "client fingerprinted" : parts.join(", ");
}
