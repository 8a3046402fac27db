import { timestampDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import {
  ariaSort,
  buildAttackerRequest,
  currentToken,
  defaultSort,
  emptySearch,
  firstPage,
  hasFilters,
  nextPage,
  orderFor,
  pageNumber,
  parseUtc,
  previousPage,
  toggleSort,
  type AttackerSearch,
} from "./attackerQuery";
import { AttackerOrder } from "./gen/decnet/api/v1/attacker_service_pb";

function build(search: Partial<AttackerSearch>, token = "") {
  return buildAttackerRequest({ ...emptySearch, ...search }, defaultSort, 100, token);
}

describe("attacker sort", () => {
  it("starts with the server's default order", () => {
    expect(orderFor(defaultSort)).toBe(AttackerOrder.LAST_SEEN_DESC);
  });

  it("maps every column and direction to its order", () => {
    expect(orderFor({ key: "lastSeen", ascending: true })).toBe(AttackerOrder.LAST_SEEN_ASC);
    expect(orderFor({ key: "firstSeen", ascending: false })).toBe(AttackerOrder.FIRST_SEEN_DESC);
    expect(orderFor({ key: "firstSeen", ascending: true })).toBe(AttackerOrder.FIRST_SEEN_ASC);
    expect(orderFor({ key: "eventCount", ascending: false })).toBe(AttackerOrder.EVENT_COUNT_DESC);
    expect(orderFor({ key: "eventCount", ascending: true })).toBe(AttackerOrder.EVENT_COUNT_ASC);
    expect(orderFor({ key: "authAttemptCount", ascending: false })).toBe(AttackerOrder.AUTH_ATTEMPT_COUNT_DESC);
    expect(orderFor({ key: "authAttemptCount", ascending: true })).toBe(AttackerOrder.AUTH_ATTEMPT_COUNT_ASC);
  });

  it("reverses the same column and starts another one descending", () => {
    const byEvents = toggleSort(defaultSort, "eventCount");
    expect(byEvents).toEqual({ key: "eventCount", ascending: false });
    const reversed = toggleSort(byEvents, "eventCount");
    expect(reversed).toEqual({ key: "eventCount", ascending: true });
    expect(toggleSort(reversed, "firstSeen")).toEqual({ key: "firstSeen", ascending: false });
  });

  it("marks only the sorted column with aria-sort", () => {
    const sort = { key: "eventCount", ascending: true } as const;
    expect(ariaSort(sort, "eventCount")).toBe("ascending");
    expect(ariaSort(defaultSort, "lastSeen")).toBe("descending");
    expect(ariaSort(sort, "lastSeen")).toBe("none");
  });
});

describe("attacker list request", () => {
  it("asks for everything in the default order without filters", () => {
    const built = build({});
    if (!built.ok) throw new Error(built.error);
    expect(built.request.orderBy).toBe(AttackerOrder.LAST_SEEN_DESC);
    expect(built.request.pageSize).toBe(100);
    expect(built.request.pageToken).toBe("");
    expect(built.request.addressPrefix).toBe("");
    expect(built.request.minEventCount).toBe(0n);
    expect(built.request.seenSince).toBeUndefined();
    expect(built.request.seenUntil).toBeUndefined();
  });

  it("carries trimmed filters, the sort and the page token", () => {
    const built = buildAttackerRequest(
      {
        addressPrefix: " 2001:DB8: ",
        service: " ssh",
        decky: "web-01 ",
        principal: " root ",
        minEvents: "12",
        since: "2026-03-01T18:00",
        until: "2026-03-02T06:30:15",
      },
      { key: "authAttemptCount", ascending: true },
      50,
      "token-2",
    );
    if (!built.ok) throw new Error(built.error);
    const r = built.request;
    expect(r.orderBy).toBe(AttackerOrder.AUTH_ATTEMPT_COUNT_ASC);
    expect(r.pageSize).toBe(50);
    expect(r.pageToken).toBe("token-2");
    expect(r.addressPrefix).toBe("2001:db8:");
    expect(r.service).toBe("ssh");
    expect(r.decky).toBe("web-01");
    expect(r.principal).toBe("root");
    expect(r.minEventCount).toBe(12n);
    expect(timestampDate(r.seenSince!).toISOString()).toBe("2026-03-01T18:00:00.000Z");
    expect(timestampDate(r.seenUntil!).toISOString()).toBe("2026-03-02T06:30:15.000Z");
  });

  it("rejects fields the server would reject, naming the field", () => {
    const cases: [Partial<AttackerSearch>, string][] = [
      [{ addressPrefix: "10.%" }, "Address prefix"],
      [{ addressPrefix: "10.0.0.0/8" }, "Address prefix"],
      [{ minEvents: "-1" }, "Minimum events"],
      [{ minEvents: "2.5" }, "Minimum events"],
      [{ since: "yesterday" }, "Seen since"],
      [{ until: "2026-02-30T00:00" }, "Seen until"],
      [{ since: "2026-03-02T00:00", until: "2026-03-01T00:00" }, "Seen until must be after"],
      [{ since: "2026-03-01T00:00", until: "2026-03-01T00:00" }, "Seen until must be after"],
    ];
    for (const [search, message] of cases) {
      const built = build(search);
      expect(built.ok, JSON.stringify(search)).toBe(false);
      if (!built.ok) {
        expect(built.error).toContain(message);
      }
    }
  });

  it("reports whether a search filters", () => {
    expect(hasFilters(emptySearch)).toBe(false);
    expect(hasFilters({ ...emptySearch, service: "  " })).toBe(false);
    expect(hasFilters({ ...emptySearch, decky: "db-01" })).toBe(true);
  });
});

describe("UTC time parsing", () => {
  it("reads datetime-local values as UTC", () => {
    expect(parseUtc("2026-03-01T18:05")?.toISOString()).toBe("2026-03-01T18:05:00.000Z");
    expect(parseUtc("2026-03-01T18:05:09")?.toISOString()).toBe("2026-03-01T18:05:09.000Z");
  });

  it("rejects text and dates that do not exist", () => {
    for (const value of ["", "2026-03-01", "2026-13-01T00:00", "2026-02-29T00:00", "2026-03-01T24:00", "0050-01-01T00:00"]) {
      expect(parseUtc(value), value).toBeUndefined();
    }
  });
});

describe("page trail", () => {
  it("goes forward with each next token and back to the first page", () => {
    const second = nextPage(firstPage, "t2");
    const third = nextPage(second, "t3");
    expect(currentToken(firstPage)).toBe("");
    expect(pageNumber(firstPage)).toBe(1);
    expect(currentToken(third)).toBe("t3");
    expect(pageNumber(third)).toBe(3);
    expect(currentToken(previousPage(third))).toBe("t2");
    expect(currentToken(previousPage(second))).toBe("");
    expect(pageNumber(previousPage(firstPage))).toBe(1);
  });

  it("stays on the last page when there is no next token", () => {
    const second = nextPage(firstPage, "t2");
    expect(nextPage(second, "")).toBe(second);
  });
});
