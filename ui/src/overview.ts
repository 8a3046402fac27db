// Shapes the server's overview statistics for the overview page.

import { create } from "@bufbuild/protobuf";
import { durationMs, timestampMs } from "@bufbuild/protobuf/wkt";

import type { GetOverviewResponse, OverviewCredential } from "./gen/decnet/api/v1/event_service_pb";
import { AuthAttemptSchema, type AuthAttempt } from "./gen/decnet/event/v1/event_pb";
import type { Bucket } from "./histogram";

// Returns the histogram of an overview as chart buckets, oldest first.
// Bucket i starts at window_start + i * bucket, as the server documents.
export function overviewBuckets(o: GetOverviewResponse): Bucket[] {
  if (o.windowStart === undefined || o.bucket === undefined) {
    return [];
  }
  const startMs = timestampMs(o.windowStart);
  const widthMs = durationMs(o.bucket);
  return o.histogram.map((count, i) => ({ startMs: startMs + i * widthMs, count: Number(count) }));
}

// Returns a label for a bucket width, such as "1 hour" or "5 minutes".
export function bucketLabel(widthMs: number): string {
  const units: [number, string][] = [
    [86_400_000, "day"],
    [3_600_000, "hour"],
    [60_000, "minute"],
  ];
  for (const [ms, name] of units) {
    if (widthMs >= ms && widthMs % ms === 0) {
      const n = widthMs / ms;
      return n === 1 ? `1 ${name}` : `${n} ${name}s`;
    }
  }
  return `${Math.round(widthMs / 1000)} seconds`;
}

// Returns an authentication attempt holding a top credential's fields, so
// the credential renders with the same secret component as live events.
export function credentialAttempt(c: OverviewCredential): AuthAttempt {
  return create(AuthAttemptSchema, {
    principal: c.principal,
    secretKind: c.secretKind,
    secret: c.secret,
    secretSha256: c.secretSha256,
  });
}
