// Summaries of the live feed for the overview page.

import { timestampMs } from "@bufbuild/protobuf/wkt";

import { toHex } from "./format";
import type { StoredEvent } from "./gen/decnet/api/v1/event_service_pb";
import type { AuthAttempt } from "./gen/decnet/event/v1/event_pb";

export interface CredentialCount {
  // One of the attempts, to show the principal and (on request) the secret.
  attempt: AuthAttempt;
  count: number;
}

// Groups the authentication attempts in events by principal and secret
// digest and returns the n most tried, most tried first. The digest, not
// the secret, is the key, so masked and unmasked attempts group alike.
export function topCredentials(events: readonly StoredEvent[], n: number): CredentialCount[] {
  const groups = new Map<string, CredentialCount>();
  for (const stored of events) {
    const payload = stored.event?.payload;
    if (payload?.case !== "authAttempt") {
      continue;
    }
    const attempt = payload.value;
    const key = `${attempt.principal}\u0000${attempt.secretKind}\u0000${toHex(attempt.secretSha256)}`;
    const group = groups.get(key);
    if (group === undefined) {
      groups.set(key, { attempt, count: 1 });
    } else {
      group.count++;
    }
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).slice(0, n);
}

// Times of the events in milliseconds since the epoch; events without a
// time are left out.
export function eventTimes(events: readonly StoredEvent[]): number[] {
  const times: number[] = [];
  for (const stored of events) {
    const time = stored.event?.time;
    if (time !== undefined) {
      times.push(timestampMs(time));
    }
  }
  return times;
}

export interface FeedCounts {
  events: number;
  authAttempts: number;
  sources: number;
}

export function countFeed(events: readonly StoredEvent[]): FeedCounts {
  const sources = new Set<string>();
  let authAttempts = 0;
  for (const stored of events) {
    const event = stored.event;
    if (event === undefined) {
      continue;
    }
    if (event.payload.case === "authAttempt") {
      authAttempts++;
    }
    if (event.source !== undefined && event.source.address !== "") {
      sources.add(event.source.address);
    }
  }
  return { events: events.length, authAttempts, sources: sources.size };
}
