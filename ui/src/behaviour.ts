// Behaviour class and decky traversal on the attacker page. The server
// decides the class; this module only names it and formats the visits.

import { timestampMs } from "@bufbuild/protobuf/wkt";

import { BehaviourClass, type AttackerBehaviour, type DeckyVisit } from "./gen/decnet/api/v1/behaviour_pb";
import { formatDuration } from "./format";

const classLabels: Record<BehaviourClass, string> = {
  [BehaviourClass.UNSPECIFIED]: "unknown",
  [BehaviourClass.UNKNOWN]: "unknown",
  [BehaviourClass.SCANNING]: "scanning",
  [BehaviourClass.BRUTE_FORCE]: "brute force",
  [BehaviourClass.INTERACTIVE]: "interactive",
  [BehaviourClass.BEACONING]: "beaconing",
  [BehaviourClass.SLOW_SCAN]: "slow scan",
  [BehaviourClass.MIXED]: "mixed",
};

// The class as the server's evidence writes it: "brute force". A value
// from a newer server than this dashboard reads as "unknown".
export function behaviourLabel(c: BehaviourClass): string {
  return classLabels[c] ?? "unknown";
}

// The CSS class of the badge: "behaviour-brute-force".
export function behaviourBadgeClass(c: BehaviourClass): string {
  return `badge behaviour-${behaviourLabel(c).replace(" ", "-")}`;
}

// Names the classes behind a mixed class: "scanning and brute force",
// "scanning, brute force and interactive". Returns "" for one or none.
export function signalsText(signals: readonly BehaviourClass[]): string {
  if (signals.length < 2) {
    return "";
  }
  const labels = signals.map(behaviourLabel);
  return `${labels.slice(0, -1).join(", ")} and ${labels[labels.length - 1]}`;
}

// Says which events the class was decided from: "from 13 events", or
// "from the newest 10,000 events" when the server read no further.
export function eventsConsideredText(b: AttackerBehaviour): string {
  const n = b.eventsConsidered.toLocaleString("en-US");
  const noun = b.eventsConsidered === 1 ? "event" : "events";
  return b.eventsCapped ? `from the newest ${n} ${noun}` : `from ${n} ${noun}`;
}

// The time between the first and the last event on the decky, "" when
// they are the same.
export function visitLength(v: DeckyVisit): string {
  if (v.firstSeen === undefined || v.lastSeen === undefined) {
    return "";
  }
  const ms = timestampMs(v.lastSeen) - timestampMs(v.firstSeen);
  return ms > 0 ? formatDuration(ms) : "";
}
