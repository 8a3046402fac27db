// Request building for the attacker list: the search form's fields, the
// sort a column header selects and the page tokens of next and previous.
// Pure functions, so the rules are tested without a browser.

import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";

import {
  AttackerOrder,
  ListAttackersRequestSchema,
  type ListAttackersRequest,
} from "./gen/decnet/api/v1/attacker_service_pb";

// The columns the list can be sorted by.
export type AttackerSortKey = "lastSeen" | "firstSeen" | "eventCount" | "authAttemptCount";

export interface AttackerSort {
  key: AttackerSortKey;
  ascending: boolean;
}

// The server's default order: most recently seen first.
export const defaultSort: AttackerSort = { key: "lastSeen", ascending: false };

// The search form as typed. Times are datetime-local values read as UTC,
// the zone the table shows.
export interface AttackerSearch {
  addressPrefix: string;
  service: string;
  decky: string;
  principal: string;
  minEvents: string;
  since: string;
  until: string;
}

export const emptySearch: AttackerSearch = {
  addressPrefix: "",
  service: "",
  decky: "",
  principal: "",
  minEvents: "",
  since: "",
  until: "",
};

const orders: Record<AttackerSortKey, { descending: AttackerOrder; ascending: AttackerOrder }> = {
  lastSeen: { descending: AttackerOrder.LAST_SEEN_DESC, ascending: AttackerOrder.LAST_SEEN_ASC },
  firstSeen: { descending: AttackerOrder.FIRST_SEEN_DESC, ascending: AttackerOrder.FIRST_SEEN_ASC },
  eventCount: { descending: AttackerOrder.EVENT_COUNT_DESC, ascending: AttackerOrder.EVENT_COUNT_ASC },
  authAttemptCount: {
    descending: AttackerOrder.AUTH_ATTEMPT_COUNT_DESC,
    ascending: AttackerOrder.AUTH_ATTEMPT_COUNT_ASC,
  },
};

export function orderFor(sort: AttackerSort): AttackerOrder {
  return sort.ascending ? orders[sort.key].ascending : orders[sort.key].descending;
}

// Returns the sort after a click on a column header: the same column
// flips its direction, another starts newest or largest first.
export function toggleSort(current: AttackerSort, key: AttackerSortKey): AttackerSort {
  if (current.key === key) {
    return { key, ascending: !current.ascending };
  }
  return { key, ascending: false };
}

// Returns the aria-sort value of a column header.
export function ariaSort(sort: AttackerSort, key: AttackerSortKey): "ascending" | "descending" | "none" {
  if (sort.key !== key) {
    return "none";
  }
  return sort.ascending ? "ascending" : "descending";
}

export type BuiltRequest = { ok: true; request: ListAttackersRequest } | { ok: false; error: string };

// The characters of address text; the server rejects any other in a
// prefix.
const addressPrefixPattern = /^[0-9a-fA-F.:]*$/;

// A datetime-local value, with or without seconds.
const localTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

// Parses a datetime-local value as UTC. It returns undefined for text that
// is not one, including dates that do not exist such as February 30.
export function parseUtc(value: string): Date | undefined {
  const m = localTimePattern.exec(value);
  if (m === null) {
    return undefined;
  }
  const part = (i: number): number => Number(m[i] ?? "0");
  const [year, month, day, hour, minute, second] = [part(1), part(2), part(3), part(4), part(5), part(6)];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  return date;
}

// Builds the list request for a search, a sort and a page, or returns an
// error that names the invalid field. Fields are trimmed, and empty ones
// do not filter.
export function buildAttackerRequest(
  search: AttackerSearch,
  sort: AttackerSort,
  pageSize: number,
  pageToken = "",
): BuiltRequest {
  const prefix = search.addressPrefix.trim();
  if (!addressPrefixPattern.test(prefix)) {
    return { ok: false, error: "Address prefix: use only hex digits, dots and colons, such as 203.0.113." };
  }
  const minEvents = search.minEvents.trim();
  if (minEvents !== "" && !/^\d+$/.test(minEvents)) {
    return { ok: false, error: "Minimum events: enter a whole number." };
  }

  const request = create(ListAttackersRequestSchema, {
    pageSize,
    pageToken,
    orderBy: orderFor(sort),
    addressPrefix: prefix.toLowerCase(),
    service: search.service.trim(),
    decky: search.decky.trim(),
    principal: search.principal.trim(),
    minEventCount: minEvents === "" ? 0n : BigInt(minEvents),
  });

  let since: Date | undefined;
  if (search.since.trim() !== "") {
    since = parseUtc(search.since.trim());
    if (since === undefined) {
      return { ok: false, error: "Seen since: enter a date and time." };
    }
    request.seenSince = timestampFromDate(since);
  }
  if (search.until.trim() !== "") {
    const until = parseUtc(search.until.trim());
    if (until === undefined) {
      return { ok: false, error: "Seen until: enter a date and time." };
    }
    if (since !== undefined && until.getTime() <= since.getTime()) {
      return { ok: false, error: "Seen until must be after seen since." };
    }
    request.seenUntil = timestampFromDate(until);
  }
  return { ok: true, request };
}

// Reports whether any filter of the search is set.
export function hasFilters(search: AttackerSearch): boolean {
  return Object.values(search).some((v) => v.trim() !== "");
}

// Page tokens of the pages before the current one, so previous can go
// back without the server keeping state. The first page has no token.
export interface PageTrail {
  tokens: readonly string[];
}

export const firstPage: PageTrail = { tokens: [] };

export function currentToken(trail: PageTrail): string {
  return trail.tokens.at(-1) ?? "";
}

// The page number shown to the user, from 1.
export function pageNumber(trail: PageTrail): number {
  return trail.tokens.length + 1;
}

export function nextPage(trail: PageTrail, nextPageToken: string): PageTrail {
  if (nextPageToken === "") {
    return trail;
  }
  return { tokens: [...trail.tokens, nextPageToken] };
}

export function previousPage(trail: PageTrail): PageTrail {
  return { tokens: trail.tokens.slice(0, -1) };
}
