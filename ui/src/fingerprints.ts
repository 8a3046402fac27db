// Groups an attacker's client.fingerprinted events into the distinct
// clients it used, for the attacker page.

import { timestampMs } from "@bufbuild/protobuf/wkt";

import type { StoredEvent } from "./gen/decnet/api/v1/event_service_pb";
import type { ClientFingerprint } from "./gen/decnet/event/v1/event_pb";

export interface FingerprintRow {
  key: string;
  service: string;
  fingerprint: ClientFingerprint;
  count: number;
  firstMs: number;
  lastMs: number;
}

// Two connections share a row when the service and every fingerprint field
// match. Rows come most recent first.
export function groupFingerprints(events: readonly StoredEvent[]): FingerprintRow[] {
  const rows = new Map<string, FingerprintRow>();
  for (const stored of events) {
    const ev = stored.event;
    if (ev?.payload.case !== "clientFingerprinted") {
      continue;
    }
    const fp = ev.payload.value;
    const key = [ev.service, fp.sshClientVersion, fp.hassh, fp.ja4, fp.ja3].join("\u0000");
    const at = ev.time === undefined ? 0 : timestampMs(ev.time);
    const row = rows.get(key);
    if (row === undefined) {
      rows.set(key, { key, service: ev.service, fingerprint: fp, count: 1, firstMs: at, lastMs: at });
      continue;
    }
    row.count++;
    row.firstMs = Math.min(row.firstMs, at);
    row.lastMs = Math.max(row.lastMs, at);
  }
  return [...rows.values()].sort((a, b) => b.lastMs - a.lastMs);
}
