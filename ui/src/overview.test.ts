import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import {
  GetOverviewResponseSchema,
  OverviewCredentialSchema,
} from "./gen/decnet/api/v1/event_service_pb";
import { formatSecret } from "./format";
import { bucketLabel, credentialAttempt, overviewBuckets } from "./overview";

describe("overview buckets", () => {
  it("starts bucket i at window start plus i widths", () => {
    const o = create(GetOverviewResponseSchema, {
      windowStart: timestampFromMs(3_600_000),
      bucket: { seconds: 3600n },
      histogram: [3n, 0n, 7n],
    });
    expect(overviewBuckets(o)).toEqual([
      { startMs: 3_600_000, count: 3 },
      { startMs: 7_200_000, count: 0 },
      { startMs: 10_800_000, count: 7 },
    ]);
  });

  it("is empty without a window", () => {
    expect(overviewBuckets(create(GetOverviewResponseSchema, { histogram: [1n] }))).toEqual([]);
  });
});

describe("bucket label", () => {
  it.each([
    [3_600_000, "1 hour"],
    [300_000, "5 minutes"],
    [86_400_000, "1 day"],
    [5_400_000, "90 minutes"],
    [1_500, "2 seconds"],
  ])("labels %d ms as %s", (ms, want) => {
    expect(bucketLabel(ms)).toBe(want);
  });
});

describe("credential attempt", () => {
  it("carries the secret for display", () => {
    const attempt = credentialAttempt(
      create(OverviewCredentialSchema, {
        principal: "root",
        secretKind: "plaintext",
        secret: new TextEncoder().encode("toor"),
        secretSha256: new Uint8Array([1, 2]),
        count: 4n,
        lastSeen: timestampFromMs(0),
      }),
    );
    expect(attempt.principal).toBe("root");
    expect(formatSecret(attempt)).toBe("toor");
    expect(attempt.secretSha256).toEqual(new Uint8Array([1, 2]));
  });
});
