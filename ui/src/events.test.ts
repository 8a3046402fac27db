import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import {
  canonicalAddress,
  emptySearch,
  isFiltered,
  liveAdditions,
  matchesFilter,
  parseUtc,
  searchToFilter,
} from "./events";
import { EventFilterSchema, StoredEventSchema, type StoredEvent } from "./gen/decnet/api/v1/event_service_pb";

const t0 = Date.UTC(2026, 2, 2, 14, 5);

function stored(id: string, over: { kind?: string; src?: string; attacker?: string; ms?: number } = {}): StoredEvent {
  return create(StoredEventSchema, {
    attackerId: over.attacker ?? "0195a1b2-0000-7000-8000-0000000000aa",
    event: {
      id,
      time: timestampFromMs(over.ms ?? t0),
      kind: over.kind ?? "auth.attempt",
      service: "ssh",
      decky: "web-01",
      agentId: "0195a1b2-0000-7000-8000-000000000001",
      source: { address: over.src ?? "192.0.2.7", port: 40000 },
    },
  });
}

describe("search to filter", () => {
  it("maps every field, trimmed, with times read as UTC", () => {
    const r = searchToFilter({
      sourceAddress: " 192.0.2.7 ",
      attackerId: " 0195A1B2-0000-7000-8000-0000000000AA",
      kind: "auth.attempt ",
      service: "ssh",
      decky: "web-01",
      since: "2026-03-02T14:05",
      until: "2026-03-02T15:00:30",
    });
    expect(r.error).toBe("");
    const f = r.filter!;
    expect(f.sourceAddress).toBe("192.0.2.7");
    expect(f.attackerId).toBe("0195a1b2-0000-7000-8000-0000000000aa");
    expect(f.kind).toBe("auth.attempt");
    expect(f.service).toBe("ssh");
    expect(f.decky).toBe("web-01");
    expect(timestampMs(f.since!)).toBe(t0);
    expect(timestampMs(f.until!)).toBe(Date.UTC(2026, 2, 2, 15, 0, 30));
  });

  it("leaves an empty search unfiltered", () => {
    const r = searchToFilter(emptySearch);
    expect(r.filter).toBeDefined();
    expect(isFiltered(r.filter!)).toBe(false);
    expect(r.filter!.since).toBeUndefined();
    expect(r.filter!.until).toBeUndefined();
  });

  it("rejects a range that ends before it starts", () => {
    const r = searchToFilter({ ...emptySearch, since: "2026-03-02T15:00", until: "2026-03-02T14:00" });
    expect(r.filter).toBeUndefined();
    expect(r.error).toBe("The end time must be after the start time.");
  });

  it("rejects a time that does not parse", () => {
    expect(searchToFilter({ ...emptySearch, since: "yesterday" }).error).toBe(
      "The start time is not a valid date and time.",
    );
    expect(searchToFilter({ ...emptySearch, until: "2026-02-30T10:00" }).error).toBe(
      "The end time is not a valid date and time.",
    );
  });
});

describe("parse UTC", () => {
  it.each([
    ["", undefined],
    ["2026-03-02T14:05", t0],
    ["2026-03-02 14:05:00", t0],
    ["2026-13-01T00:00", NaN],
    ["2026-03-02T24:00", NaN],
    ["14:05", NaN],
  ])("parses %j", (value, want) => {
    expect(parseUtc(value)).toBe(want);
  });
});

describe("live matching", () => {
  const filter = (over: Parameters<typeof create<typeof EventFilterSchema>>[1]) => create(EventFilterSchema, over);

  it.each([
    ["empty filter", {}, true],
    ["kind", { kind: "auth.attempt" }, true],
    ["other kind", { kind: "command" }, false],
    ["other service", { service: "http" }, false],
    ["other decky", { decky: "db-01" }, false],
    ["other agent", { agentId: "0195a1b2-0000-7000-8000-0000000000ff" }, false],
    ["attacker", { attackerId: "0195a1b2-0000-7000-8000-0000000000aa" }, true],
    ["other attacker", { attackerId: "0195a1b2-0000-7000-8000-0000000000bb" }, false],
    ["source", { sourceAddress: "192.0.2.7" }, true],
    ["other source", { sourceAddress: "192.0.2.8" }, false],
    ["since equal", { since: timestampFromMs(t0) }, true],
    ["since later", { since: timestampFromMs(t0 + 1000) }, false],
    ["until equal", { until: timestampFromMs(t0) }, false],
    ["until later", { until: timestampFromMs(t0 + 1000) }, true],
  ])("%s", (_name, over, want) => {
    expect(matchesFilter(filter(over), stored("e1"))).toBe(want);
  });

  it("compares IPv4-mapped sources as IPv4", () => {
    expect(matchesFilter(filter({ sourceAddress: "192.0.2.7" }), stored("e1", { src: "::ffff:192.0.2.7" }))).toBe(true);
    expect(canonicalAddress("FE80::1%eth0")).toBe("fe80::1");
  });

  it("skips events without a body", () => {
    expect(matchesFilter(filter({}), create(StoredEventSchema, {}))).toBe(false);
  });
});

describe("live additions", () => {
  it("adds only new matching events not shown yet", () => {
    const feed = [
      stored("new-match"),
      stored("new-other", { kind: "command" }),
      stored("shown"),
      stored("before-search"),
    ];
    const added = liveAdditions(
      feed,
      create(EventFilterSchema, { kind: "auth.attempt" }),
      new Set(["shown"]),
      new Set(["before-search"]),
    );
    expect(added.map((s) => s.event?.id)).toEqual(["new-match"]);
  });
});
