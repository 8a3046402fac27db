// Search of stored events: the form's fields, the ListEvents filter they
// map to, and the test that live events from the stream must pass to join
// the results.

import { create } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";

import {
  EventFilterSchema,
  type EventFilter,
  type StoredEvent,
} from "./gen/decnet/api/v1/event_service_pb";

// EventSearch is the search form as typed. Times are the value of a
// datetime-local input ("2026-03-02T14:05"), read as UTC because the
// dashboard shows every time in UTC.
export interface EventSearch {
  sourceAddress: string;
  attackerId: string;
  kind: string;
  service: string;
  decky: string;
  since: string;
  until: string;
}

export const emptySearch: EventSearch = {
  sourceAddress: "",
  attackerId: "",
  kind: "",
  service: "",
  decky: "",
  since: "",
  until: "",
};

// Kinds the decoys emit, offered as suggestions. Any other kind can be
// typed too.
export const knownKinds = [
  "auth.attempt",
  "command",
  "connection.opened",
  "connection.closed",
  "connection.rejected",
  "file.uploaded",
  "http.request",
  "session.recorded",
] as const;

export type FilterResult = { filter: EventFilter; error: "" } | { filter: undefined; error: string };

// Maps the form to a ListEvents filter, trimming every field. It returns an
// error message for a time that does not parse or a range that ends before
// it starts. The server checks addresses and ids.
export function searchToFilter(search: EventSearch): FilterResult {
  const since = parseUtc(search.since);
  const until = parseUtc(search.until);
  if (Number.isNaN(since)) {
    return { filter: undefined, error: "The start time is not a valid date and time." };
  }
  if (Number.isNaN(until)) {
    return { filter: undefined, error: "The end time is not a valid date and time." };
  }
  if (since !== undefined && until !== undefined && until <= since) {
    return { filter: undefined, error: "The end time must be after the start time." };
  }
  return {
    filter: create(EventFilterSchema, {
      sourceAddress: search.sourceAddress.trim(),
      attackerId: search.attackerId.trim().toLowerCase(),
      kind: search.kind.trim(),
      service: search.service.trim(),
      decky: search.decky.trim(),
      since: since === undefined ? undefined : timestampFromMs(since),
      until: until === undefined ? undefined : timestampFromMs(until),
    }),
    error: "",
  };
}

// Returns milliseconds since the epoch for a datetime-local value read as
// UTC, undefined for an empty value and NaN for one that does not parse.
export function parseUtc(value: string): number | undefined {
  const v = value.trim();
  if (v === "") {
    return undefined;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (m === null) {
    return NaN;
  }
  // An absent seconds group is undefined, which Number maps to NaN.
  const [y, mo, d, h, mi, s] = m.slice(1).map((part) => (part === undefined ? 0 : Number(part))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (h > 23 || mi > 59 || s > 59) {
    return NaN;
  }
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2026-02-30 over into March, so such a date is invalid.
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    return NaN;
  }
  return ms;
}

// Reports whether a filter has any field set.
export function isFiltered(f: EventFilter): boolean {
  return (
    f.sourceAddress !== "" ||
    f.attackerId !== "" ||
    f.kind !== "" ||
    f.service !== "" ||
    f.decky !== "" ||
    f.agentId !== "" ||
    f.since !== undefined ||
    f.until !== undefined
  );
}

// Returns an address in the form the server stores: IPv4-mapped IPv6
// addresses as IPv4, IPv6 in lowercase, without a zone.
export function canonicalAddress(address: string): string {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf("%");
  if (zone >= 0) {
    a = a.slice(0, zone);
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped?.[1] ?? a;
}

// Reports whether a live event passes the filter, with the server's rules
// for a stream: empty fields match everything, since is inclusive and until
// exclusive. It lets the page take live events from the dashboard's one
// stream instead of opening a second one per search.
export function matchesFilter(f: EventFilter, stored: StoredEvent): boolean {
  const ev = stored.event;
  if (ev === undefined) {
    return false;
  }
  if (f.kind !== "" && f.kind !== ev.kind) return false;
  if (f.service !== "" && f.service !== ev.service) return false;
  if (f.decky !== "" && f.decky !== ev.decky) return false;
  if (f.agentId !== "" && f.agentId !== ev.agentId) return false;
  if (f.attackerId !== "" && f.attackerId !== stored.attackerId) return false;
  if (f.sourceAddress !== "" && canonicalAddress(f.sourceAddress) !== canonicalAddress(ev.source?.address ?? "")) {
    return false;
  }
  if (f.since !== undefined || f.until !== undefined) {
    if (ev.time === undefined) {
      return false;
    }
    const t = timestampMs(ev.time);
    if (f.since !== undefined && t < timestampMs(f.since)) return false;
    if (f.until !== undefined && t >= timestampMs(f.until)) return false;
  }
  return true;
}

// Returns the live events to put before the results: those that match the
// filter, are not shown yet, and arrived after the search was made (their
// id is not among the feed's ids at that time). Events the stream delivered
// before the search are already in the store's response or older than it.
export function liveAdditions(
  feed: readonly StoredEvent[],
  filter: EventFilter,
  shownIds: ReadonlySet<string>,
  feedAtSearch: ReadonlySet<string>,
): StoredEvent[] {
  return feed.filter((s) => {
    const id = s.event?.id ?? "";
    return id !== "" && !shownIds.has(id) && !feedAtSearch.has(id) && matchesFilter(filter, s);
  });
}
