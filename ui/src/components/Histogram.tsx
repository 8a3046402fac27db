import { formatTimeOfDayMs, peakCount, type Bucket } from "../histogram";

// Bar chart of events per bucket. SVG attributes rather than inline styles:
// the Content-Security-Policy allows no inline style attributes.
export function Histogram({ buckets, bucketLabel }: { buckets: readonly Bucket[]; bucketLabel: string }) {
  const peak = peakCount(buckets);
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const width = 100 / Math.max(buckets.length, 1);
  const first = buckets[0];
  const last = buckets[buckets.length - 1];

  return (
    <figure className="histogram">
      <svg
        viewBox="0 0 100 40"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${total} events, ${bucketLabel} per bar, busiest bar ${peak}`}
      >
        {buckets.map((b, i) => (
          <rect
            key={b.startMs}
            x={i * width + width * 0.1}
            width={width * 0.8}
            y={40 - (b.count / peak) * 40}
            height={(b.count / peak) * 40}
          >
            <title>{`${formatTimeOfDayMs(b.startMs)} UTC: ${b.count}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption>
        <span>{first === undefined ? "" : formatTimeOfDayMs(first.startMs)}</span>
        <span>
          {bucketLabel} per bar, peak {peak}
        </span>
        <span>{last === undefined ? "" : `${formatTimeOfDayMs(last.startMs)} UTC`}</span>
      </figcaption>
    </figure>
  );
}
