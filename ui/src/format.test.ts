import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import {
  AuthAttemptSchema,
  AuthOutcome,
  EndpointSchema,
  EventSchema,
} from "./gen/decnet/event/v1/event_pb";
import {
  escapeControl,
  formatBytes,
  formatDateTime,
  formatDuration,
  formatEndpoint,
  formatSecret,
  formatTimeOfDay,
  outcomeLabel,
  shortId,
  summarizeEvent,
  toHex,
} from "./format";

const encoder = new TextEncoder();

describe("escapeControl", () => {
  it.each([
    ["plain", "root", "root"],
    ["newline and escape", "a\nb\u001b[31m", "a\\x0ab\\x1b[31m"],
    ["delete and C1", "x\u007fy\u0085", "x\\x7fy\\x85"],
    ["right-to-left override", "invoice\u202egpj.exe", "invoice\\u{202e}gpj.exe"],
    ["zero-width space", "ad\u200bmin", "ad\\u{200b}min"],
    ["non-ASCII letters kept", "пароль", "пароль"],
  ])("%s", (_name, input, want) => {
    expect(escapeControl(input)).toBe(want);
  });
});

describe("time formatting", () => {
  const ts = timestampFromMs(Date.UTC(2025, 0, 2, 3, 4, 5, 67));

  it("formats date and time in UTC", () => {
    expect(formatDateTime(ts)).toBe("2025-01-02 03:04:05");
  });

  it("formats time of day with milliseconds", () => {
    expect(formatTimeOfDay(ts)).toBe("03:04:05.067");
  });

  it("returns empty text for a missing timestamp", () => {
    expect(formatDateTime(undefined)).toBe("");
    expect(formatTimeOfDay(undefined)).toBe("");
  });
});

describe("formatEndpoint", () => {
  it.each([
    ["IPv4 with port", "192.0.2.7", 2222, "192.0.2.7:2222"],
    ["IPv6 gets brackets", "2001:db8::1", 22, "[2001:db8::1]:22"],
    ["zero port left out", "192.0.2.7", 0, "192.0.2.7"],
    ["empty address", "", 80, ""],
  ])("%s", (_name, address, port, want) => {
    expect(formatEndpoint(create(EndpointSchema, { address, port }))).toBe(want);
  });

  it("returns empty text for a missing endpoint", () => {
    expect(formatEndpoint(undefined)).toBe("");
  });
});

describe("formatDuration", () => {
  it.each([
    [0n, "0ms"],
    [850n, "850ms"],
    [12_345n, "12.3s"],
    [59_999n, "59.9s"],
    [245_000n, "4m05s"],
    [7_620_000n, "2h07m"],
  ])("%s ms", (ms, want) => {
    expect(formatDuration(ms)).toBe(want);
  });
});

describe("formatBytes", () => {
  it.each([
    [0n, "0 B"],
    [1023n, "1023 B"],
    [1536n, "1.5 KiB"],
    [5n * 1024n * 1024n, "5.0 MiB"],
  ])("%s bytes", (bytes, want) => {
    expect(formatBytes(bytes)).toBe(want);
  });
});

describe("small helpers", () => {
  it("shortens a UUID to its random tail", () => {
    expect(shortId("0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b")).toBe("2e3f4a5b");
  });

  it("keeps short ids whole", () => {
    expect(shortId("abc")).toBe("abc");
  });

  it("encodes bytes as lowercase hexadecimal", () => {
    expect(toHex(new Uint8Array([0x00, 0x0f, 0xab, 0xff]))).toBe("000fabff");
  });

  it.each([
    [AuthOutcome.ACCEPTED, "accepted"],
    [AuthOutcome.REJECTED, "rejected"],
    [AuthOutcome.UNSPECIFIED, "unknown"],
  ])("labels outcome %s", (outcome, want) => {
    expect(outcomeLabel(outcome)).toBe(want);
  });
});

describe("formatSecret", () => {
  it("shows a plaintext password as text", () => {
    const attempt = create(AuthAttemptSchema, {
      secretKind: "plaintext",
      secret: encoder.encode("hunter2"),
    });
    expect(formatSecret(attempt)).toBe("hunter2");
  });

  it("escapes control characters in a plaintext secret", () => {
    const attempt = create(AuthAttemptSchema, {
      secretKind: "plaintext",
      secret: encoder.encode("pass\r\n"),
    });
    expect(formatSecret(attempt)).toBe("pass\\x0d\\x0a");
  });

  it("shows a plaintext secret that is not UTF-8 as hexadecimal", () => {
    const attempt = create(AuthAttemptSchema, {
      secretKind: "plaintext",
      secret: new Uint8Array([0xff, 0xfe, 0x41]),
    });
    expect(formatSecret(attempt)).toBe("hex:fffe41");
  });

  it("shows a challenge-response as hexadecimal", () => {
    const attempt = create(AuthAttemptSchema, {
      secretKind: "mysql_native_password",
      secret: new Uint8Array([0x12, 0x34]),
    });
    expect(formatSecret(attempt)).toBe("hex:1234");
  });

  it("shows an NTLM response as its hashcat line", () => {
    const line = "alice::CORP:0123456789abcdef:68cd0ab851e51c96aabc927bebef6a1c:0101";
    const attempt = create(AuthAttemptSchema, {
      secretKind: "ntlmssp_v2",
      secret: encoder.encode(line),
    });
    expect(formatSecret(attempt)).toBe(line);
  });

  it("shows a public key by type and fingerprint", () => {
    const attempt = create(AuthAttemptSchema, {
      secretKind: "ssh_publickey",
      secret: new Uint8Array([1, 2, 3]),
      keyType: "ssh-ed25519",
      keyFingerprint: "SHA256:abc",
    });
    expect(formatSecret(attempt)).toBe("ssh-ed25519 SHA256:abc");
  });

  it("marks an empty secret", () => {
    const attempt = create(AuthAttemptSchema, { secretKind: "plaintext" });
    expect(formatSecret(attempt)).toBe("(empty)");
  });
});

describe("summarizeEvent", () => {
  it.each([
    {
      name: "connection opened",
      payload: { case: "connectionOpened" as const, value: { transport: "tcp" } },
      want: "tcp opened",
    },
    {
      name: "connection closed",
      payload: {
        case: "connectionClosed" as const,
        value: { durationMs: 4200n, bytesReceived: 120n, bytesSent: 3482n, reason: "timeout" },
      },
      want: "closed (timeout) after 4.2s, 120 B in, 3.4 KiB out",
    },
    {
      name: "connections rejected",
      payload: {
        case: "connectionRejected" as const,
        value: { reason: "per_source_limit", count: 37n },
      },
      want: "37 connections rejected (per_source_limit)",
    },
    {
      name: "one connection rejected",
      payload: {
        case: "connectionRejected" as const,
        value: { reason: "total_limit", count: 1n },
      },
      want: "1 connection rejected (total_limit)",
    },
    {
      name: "command with escape sequence",
      payload: {
        case: "command" as const,
        value: { line: "uname -a\u001b[2J", channel: "shell" },
      },
      want: "shell: uname -a\\x1b[2J",
    },
    {
      name: "http request",
      payload: {
        case: "httpRequest" as const,
        value: { method: "GET", target: "/.env", status: 404, userAgent: "curl/8.5.0" },
      },
      want: 'GET /.env -> 404 "curl/8.5.0"',
    },
    {
      name: "ssh client fingerprint with a control character",
      payload: {
        case: "clientFingerprinted" as const,
        value: { sshClientVersion: "SSH-2.0-Go\u0007", hassh: "ec7378c1a92f5a8dde7e8b7a1ddf33d1" },
      },
      want: "SSH-2.0-Go\\x07, HASSH ec7378c1a92f5a8dde7e8b7a1ddf33d1",
    },
    {
      name: "tls client fingerprint",
      payload: {
        case: "clientFingerprinted" as const,
        value: {
          ja3: "d582f23545181d63341e5a2339883b7c",
          ja3String: "771,49199-49200-255,0-11-10-35-16-22-23-13,24-29,0-1-2",
          ja4: "t12d0308h2_0f9cd282b7f5_e7e480e5a997",
        },
      },
      want: "JA4 t12d0308h2_0f9cd282b7f5_e7e480e5a997, JA3 d582f23545181d63341e5a2339883b7c",
    },
  ])("$name", ({ payload, want }) => {
    const event = create(EventSchema, { kind: "x", payload });
    expect(summarizeEvent(event)).toBe(want);
  });

  it("leaves the secret out of an auth attempt", () => {
    const event = create(EventSchema, {
      kind: "auth.attempt",
      payload: {
        case: "authAttempt",
        value: {
          principal: "root",
          mechanism: "ssh_password",
          secretKind: "plaintext",
          secret: encoder.encode("hunter2"),
          outcome: AuthOutcome.REJECTED,
        },
      },
    });
    const summary = summarizeEvent(event);
    expect(summary).toBe("root via ssh_password [plaintext] rejected");
    expect(summary).not.toContain("hunter2");
  });

  it("falls back to the kind without a payload", () => {
    const event = create(EventSchema, { kind: "session.recorded" });
    expect(summarizeEvent(event)).toBe("session.recorded");
  });
});
