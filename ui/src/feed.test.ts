import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { compareNewestFirst, mergeEvents } from "./feed";
import { StoredEventSchema, type StoredEvent } from "./gen/decnet/api/v1/event_service_pb";

function stored(id: string, timeMs: number): StoredEvent {
  return create(StoredEventSchema, {
    event: { id, time: timestampFromMs(timeMs), kind: "command" },
  });
}

function ids(events: StoredEvent[]): string[] {
  return events.map((e) => e.event?.id ?? "");
}

describe("mergeEvents", () => {
  it("orders newest first", () => {
    const merged = mergeEvents([], [stored("a", 1000), stored("c", 3000), stored("b", 2000)]);
    expect(ids(merged)).toEqual(["c", "b", "a"]);
  });

  it("drops events already in the feed", () => {
    const current = mergeEvents([], [stored("a", 1000), stored("b", 2000)]);
    const merged = mergeEvents(current, [stored("b", 2000), stored("c", 3000)]);
    expect(ids(merged)).toEqual(["c", "b", "a"]);
  });

  it("drops duplicates within one batch", () => {
    const merged = mergeEvents([], [stored("a", 1000), stored("a", 1000)]);
    expect(ids(merged)).toEqual(["a"]);
  });

  it("keeps only the newest events over capacity", () => {
    const batch = Array.from({ length: 10 }, (_, i) => stored(`e${i}`, i * 1000));
    const merged = mergeEvents([], batch, 3);
    expect(ids(merged)).toEqual(["e9", "e8", "e7"]);
  });

  it("evicts the oldest when a new event arrives at capacity", () => {
    const current = mergeEvents([], [stored("a", 1000), stored("b", 2000)], 2);
    const merged = mergeEvents(current, [stored("c", 3000)], 2);
    expect(ids(merged)).toEqual(["c", "b"]);
  });

  it("ignores responses without an event", () => {
    const merged = mergeEvents([], [create(StoredEventSchema, {}), stored("a", 1000)]);
    expect(ids(merged)).toEqual(["a"]);
  });

  it("does not modify the current array", () => {
    const current = [stored("a", 1000)];
    mergeEvents(current, [stored("b", 2000)]);
    expect(ids(current)).toEqual(["a"]);
  });
});

describe("compareNewestFirst", () => {
  it("breaks time ties by descending id", () => {
    const older = stored("0190a5b2-0000-7000-8000-000000000001", 5000);
    const newer = stored("0190a5b2-0000-7000-8000-000000000002", 5000);
    expect(compareNewestFirst(older, newer)).toBeGreaterThan(0);
    expect(compareNewestFirst(newer, older)).toBeLessThan(0);
  });

  it("returns zero for the same event", () => {
    const a = stored("a", 5000);
    expect(compareNewestFirst(a, a)).toBe(0);
  });
});
