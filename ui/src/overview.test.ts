import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import { StoredEventSchema, type StoredEvent } from "./gen/decnet/api/v1/event_service_pb";
import { countFeed, eventTimes, topCredentials } from "./overview";

function auth(id: string, principal: string, digest: number, source: string): StoredEvent {
  return create(StoredEventSchema, {
    event: {
      id,
      kind: "auth.attempt",
      time: timestampFromMs(1000),
      source: { address: source, port: 40000 },
      payload: {
        case: "authAttempt",
        value: { principal, secretKind: "plaintext", secretSha256: new Uint8Array([digest]) },
      },
    },
  });
}

function opened(id: string, source: string, ms?: number): StoredEvent {
  return create(StoredEventSchema, {
    event: {
      id,
      kind: "connection.opened",
      time: ms === undefined ? undefined : timestampFromMs(ms),
      source: { address: source },
      payload: { case: "connectionOpened", value: {} },
    },
  });
}

describe("overview summaries", () => {
  const events = [
    auth("1", "root", 1, "127.0.0.2"),
    auth("2", "root", 1, "127.0.0.3"),
    auth("3", "root", 2, "127.0.0.2"),
    auth("4", "admin", 1, "127.0.0.2"),
    auth("5", "admin", 1, "127.0.0.2"),
    auth("6", "admin", 1, "127.0.0.2"),
    opened("7", "127.0.0.4", 5000),
    opened("8", "", undefined),
  ];

  it("groups credentials by principal and secret digest", () => {
    const top = topCredentials(events, 2);
    expect(top.map((c) => [c.attempt.principal, c.attempt.secretSha256[0], c.count])).toEqual([
      ["admin", 1, 3],
      ["root", 1, 2],
    ]);
  });

  it("counts events, attempts and distinct sources", () => {
    expect(countFeed(events)).toEqual({ events: 8, authAttempts: 6, sources: 3 });
  });

  it("leaves events without a time out of the chart", () => {
    expect(eventTimes(events)).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 5000]);
  });
});
