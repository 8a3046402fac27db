// In-memory event feed: newest first, deduplicated, bounded.

import { timestampMs } from "@bufbuild/protobuf/wkt";

import type { StoredEvent } from "./gen/decnet/api/v1/event_service_pb";

// Maximum events kept in the browser. Older events stay in the store and are
// reachable through ListEvents; the cap keeps rendering cheap during a flood.
export const feedCapacity = 500;

function eventTimeMs(stored: StoredEvent): number {
  const time = stored.event?.time;
  return time === undefined ? 0 : timestampMs(time);
}

// Orders events newest first by the time the agent observed them. Ties are
// broken by id, which is a UUIDv7 and so also sorts by creation time.
export function compareNewestFirst(a: StoredEvent, b: StoredEvent): number {
  const byTime = eventTimeMs(b) - eventTimeMs(a);
  if (byTime !== 0) {
    return byTime;
  }
  const idA = a.event?.id ?? "";
  const idB = b.event?.id ?? "";
  if (idA === idB) {
    return 0;
  }
  return idA < idB ? 1 : -1;
}

// Merges incoming events into the feed and returns a new array, newest
// first, with at most capacity events. An event whose id is already present
// is dropped: a stream that reconnects and the backfill after it can deliver
// the same event twice. Responses without an event are ignored.
export function mergeEvents(
  current: readonly StoredEvent[],
  incoming: readonly StoredEvent[],
  capacity: number = feedCapacity,
): StoredEvent[] {
  const seen = new Set<string>();
  for (const stored of current) {
    if (stored.event !== undefined && stored.event.id !== "") {
      seen.add(stored.event.id);
    }
  }

  const merged = [...current];
  for (const stored of incoming) {
    if (stored.event === undefined) {
      continue;
    }
    const id = stored.event.id;
    if (id !== "" && seen.has(id)) {
      continue;
    }
    if (id !== "") {
      seen.add(id);
    }
    merged.push(stored);
  }

  merged.sort(compareNewestFirst);
  return merged.length > capacity ? merged.slice(0, capacity) : merged;
}
