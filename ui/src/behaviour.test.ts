import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";

import {
  behaviourBadgeClass,
  behaviourLabel,
  eventsConsideredText,
  signalsText,
  visitLength,
} from "./behaviour";
import { AttackerBehaviourSchema, BehaviourClass, DeckyVisitSchema } from "./gen/decnet/api/v1/behaviour_pb";

describe("behaviourLabel", () => {
  it("names each class", () => {
    expect(behaviourLabel(BehaviourClass.BRUTE_FORCE)).toBe("brute force");
    expect(behaviourLabel(BehaviourClass.SLOW_SCAN)).toBe("slow scan");
    expect(behaviourLabel(BehaviourClass.MIXED)).toBe("mixed");
  });

  it("reads unset and unknown values as unknown", () => {
    expect(behaviourLabel(BehaviourClass.UNSPECIFIED)).toBe("unknown");
    expect(behaviourLabel(99 as BehaviourClass)).toBe("unknown");
  });
});

describe("behaviourBadgeClass", () => {
  it("joins the words of the class", () => {
    expect(behaviourBadgeClass(BehaviourClass.BRUTE_FORCE)).toBe("badge behaviour-brute-force");
    expect(behaviourBadgeClass(BehaviourClass.SCANNING)).toBe("badge behaviour-scanning");
  });
});

describe("signalsText", () => {
  it("is empty for fewer than two signals", () => {
    expect(signalsText([])).toBe("");
    expect(signalsText([BehaviourClass.SCANNING])).toBe("");
  });

  it("lists two or more", () => {
    expect(signalsText([BehaviourClass.SCANNING, BehaviourClass.BRUTE_FORCE])).toBe("scanning and brute force");
    expect(signalsText([BehaviourClass.SCANNING, BehaviourClass.BRUTE_FORCE, BehaviourClass.INTERACTIVE])).toBe(
      "scanning, brute force and interactive",
    );
  });
});

describe("eventsConsideredText", () => {
  it("counts the events", () => {
    expect(eventsConsideredText(create(AttackerBehaviourSchema, { eventsConsidered: 1 }))).toBe("from 1 event");
    expect(eventsConsideredText(create(AttackerBehaviourSchema, { eventsConsidered: 13 }))).toBe("from 13 events");
  });

  it("says when older events were left out", () => {
    expect(eventsConsideredText(create(AttackerBehaviourSchema, { eventsConsidered: 10000, eventsCapped: true }))).toBe(
      "from the newest 10,000 events",
    );
  });
});

describe("visitLength", () => {
  const at = (iso: string) => timestampFromDate(new Date(iso));

  it("formats the time on the decky", () => {
    const v = create(DeckyVisitSchema, { firstSeen: at("2026-12-05T01:00:00Z"), lastSeen: at("2026-12-05T01:04:05Z") });
    expect(visitLength(v)).toBe("4m05s");
  });

  it("is empty for a single moment or missing times", () => {
    expect(visitLength(create(DeckyVisitSchema, { firstSeen: at("2026-12-05T01:00:00Z"), lastSeen: at("2026-12-05T01:00:00Z") }))).toBe("");
    expect(visitLength(create(DeckyVisitSchema, {}))).toBe("");
  });
});
