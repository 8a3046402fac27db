// Time histogram of events for the overview.

export interface Bucket {
  // Start of the bucket, milliseconds since the epoch.
  startMs: number;
  count: number;
}

// Buckets counts times (milliseconds since the epoch) into bucketCount
// buckets of bucketMs each, the last one containing nowMs. Times before the
// first bucket or after nowMs are left out, so a clock skew between agent and
// browser cannot stretch the chart.
export function bucketize(
  timesMs: readonly number[],
  nowMs: number,
  bucketMs: number,
  bucketCount: number,
): Bucket[] {
  if (bucketMs <= 0 || bucketCount <= 0) {
    return [];
  }
  // Buckets are aligned to multiples of bucketMs so they do not shift as
  // the clock advances within one bucket.
  const lastStart = Math.floor(nowMs / bucketMs) * bucketMs;
  const firstStart = lastStart - (bucketCount - 1) * bucketMs;
  const buckets: Bucket[] = [];
  for (let i = 0; i < bucketCount; i++) {
    buckets.push({ startMs: firstStart + i * bucketMs, count: 0 });
  }
  for (const t of timesMs) {
    if (t < firstStart || t >= lastStart + bucketMs) {
      continue;
    }
    const bucket = buckets[Math.floor((t - firstStart) / bucketMs)];
    if (bucket !== undefined) {
      bucket.count++;
    }
  }
  return buckets;
}

// Largest count, at least 1 so bar heights can be divided by it.
export function peakCount(buckets: readonly Bucket[]): number {
  return buckets.reduce((max, b) => Math.max(max, b.count), 1);
}

// Counts values and returns the n most frequent, most frequent first; ties
// keep the order of first appearance.
export function topCounts(values: Iterable<string>, n: number): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const v of values) {
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count)
    .slice(0, n);
}

// Formats milliseconds since the epoch as "HH:MM" in UTC.
export function formatTimeOfDayMs(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}
