import { describe, expect, it } from "vitest";

import { bucketize, formatTimeOfDayMs, peakCount, topCounts } from "./histogram";

describe("bucketize", () => {
  const minute = 60_000;
  // 10:05:30 UTC on some day: the last bucket starts at 10:05:00.
  const now = Date.UTC(2026, 0, 2, 10, 5, 30);
  const lastStart = Date.UTC(2026, 0, 2, 10, 5, 0);

  it("aligns buckets to the bucket size and ends with the current one", () => {
    const buckets = bucketize([], now, minute, 3);
    expect(buckets.map((b) => b.startMs)).toEqual([lastStart - 2 * minute, lastStart - minute, lastStart]);
    expect(buckets.every((b) => b.count === 0)).toBe(true);
  });

  it("counts each time in its bucket, edges included at the start", () => {
    const times = [lastStart, lastStart + 29_999, lastStart - 1, lastStart - 2 * minute];
    expect(bucketize(times, now, minute, 3).map((b) => b.count)).toEqual([1, 1, 2]);
  });

  it("leaves out times before the window and after the current bucket", () => {
    const times = [lastStart - 3 * minute, lastStart + minute, lastStart + 10];
    expect(bucketize(times, now, minute, 3).map((b) => b.count)).toEqual([0, 0, 1]);
  });

  it("returns nothing for a degenerate size", () => {
    expect(bucketize([now], now, 0, 3)).toEqual([]);
    expect(bucketize([now], now, minute, 0)).toEqual([]);
  });

  it("reports a peak of at least one", () => {
    expect(peakCount([])).toBe(1);
    expect(peakCount(bucketize([now, now, lastStart - minute], now, minute, 2))).toBe(2);
  });

  it("formats bucket starts in UTC", () => {
    expect(formatTimeOfDayMs(lastStart)).toBe("10:05");
  });
});

describe("topCounts", () => {
  it("orders by count, ties by first appearance, and cuts at n", () => {
    expect(topCounts(["b", "a", "b", "c", "a", "d", "b"], 3)).toEqual([
      { value: "b", count: 3 },
      { value: "a", count: 2 },
      { value: "c", count: 1 },
    ]);
  });
});
