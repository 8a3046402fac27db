import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { KeystrokesSchema } from "./gen/decnet/api/v1/session_service_pb";
import { keystrokeFacts, keystrokeReading } from "./keystrokes";

describe("keystrokes", () => {
  it("lists nothing for a session without input", () => {
    expect(keystrokeFacts(create(KeystrokesSchema, {}))).toEqual([]);
    expect(keystrokeReading(undefined)).toBe("No input was typed in this session.");
  });

  it("describes typed keys with their timing", () => {
    const k = create(KeystrokesSchema, {
      keys: 40, pastes: 1, pasteChars: 12, thinkPauses: 3, intervals: 30,
      medianMs: 142.4, p25Ms: 98, p75Ms: 210.6, p90Ms: 400, stdLogMs: 0.6, digraphSimhash: "00ff00ff00ff00ff",
    });
    const facts = keystrokeFacts(k);
    expect(facts.map((f) => f.label)).toEqual(["keys typed", "pastes", "pauses of 2 s or more", "time between keys", "rhythm hash"]);
    expect(facts[1]?.value).toBe("1 (12 characters)");
    expect(facts[3]?.value).toBe("median 142 ms, middle half 98 ms to 211 ms, 90% under 400 ms (30 intervals)");
    expect(keystrokeReading(k)).toBe("The keys came at irregular intervals, as a person types.");
  });

  it("reads pasted-only and regular input as a script", () => {
    expect(keystrokeReading(create(KeystrokesSchema, { pastes: 3, pasteChars: 40 }))).toContain("script or a paste");
    expect(keystrokeReading(create(KeystrokesSchema, { keys: 50, intervals: 40, stdLogMs: 0.05 }))).toContain("machine-regular");
  });
});
