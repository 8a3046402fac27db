import { describe, expect, it } from "vitest";

import { maxNoteChars, maxTags, noteProblem, parseTags, triageLabel } from "./annotations";
import { TriageStatus } from "./gen/decnet/api/v1/annotation_service_pb";

describe("parseTags", () => {
  it("splits on commas and spaces, lower-cases and drops duplicates", () => {
    expect(parseTags("Mirai, brute-force  mirai,,c2:cobalt")).toEqual({ tags: ["mirai", "brute-force", "c2:cobalt"] });
  });
  it("gives no tags for blank input", () => {
    expect(parseTags("  , ")).toEqual({ tags: [] });
  });
  it("refuses characters the server refuses", () => {
    expect(parseTags("ok bad/tag").error).toContain('"bad/tag"');
  });
  it("refuses long tags and too many tags", () => {
    expect(parseTags("x".repeat(41)).error).toContain("longer than 40");
    const many = Array.from({ length: maxTags + 1 }, (_, i) => `t${i}`).join(" ");
    expect(parseTags(many).error).toContain(`at most ${maxTags}`);
  });
});

describe("noteProblem", () => {
  it("accepts a note and refuses an empty or long one", () => {
    expect(noteProblem("seen before")).toBeUndefined();
    expect(noteProblem(" \n ")).toBe("Write the note first.");
    expect(noteProblem("é".repeat(maxNoteChars))).toBeUndefined();
    expect(noteProblem("a".repeat(maxNoteChars + 1))).toContain("longer than");
  });
});

describe("triageLabel", () => {
  it("names each status and treats unspecified as new", () => {
    expect(triageLabel(TriageStatus.FALSE_POSITIVE)).toBe("false positive");
    expect(triageLabel(TriageStatus.ACKNOWLEDGED)).toBe("acknowledged");
    expect(triageLabel(TriageStatus.UNSPECIFIED)).toBe("new");
  });
});
