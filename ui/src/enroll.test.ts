import { describe, expect, it } from "vitest";

import { parseLabels, parseTtlMinutes } from "./enroll";

describe("parseLabels", () => {
  it("reads pairs split by commas and new lines", () => {
    expect(parseLabels(" site=paris,\nzone=dmz , role=")).toEqual({
      ok: true,
      value: { site: "paris", zone: "dmz", role: "" },
    });
  });

  it("accepts no labels", () => {
    expect(parseLabels("  ")).toEqual({ ok: true, value: {} });
  });

  const bad = [
    { name: "an upper-case key", text: "Site=x", error: 'Label key "Site"' },
    { name: "a key starting with a dot", text: ".a=x", error: 'Label key ".a"' },
    { name: "a value with a space", text: "a=b c", error: 'Label "a"' },
    { name: "a duplicate key", text: "a=1,a=2", error: 'Label key "a" appears twice' },
    { name: "seventeen labels", text: Array.from({ length: 17 }, (_, i) => `k${i}=v`).join(","), error: "At most 16 labels" },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      const got = parseLabels(c.text);
      expect(got.ok).toBe(false);
      expect(got.ok ? "" : got.error).toContain(c.error);
    });
  }
});

describe("parseTtlMinutes", () => {
  it("accepts whole minutes up to seven days", () => {
    expect(parseTtlMinutes(" 15 ")).toEqual({ ok: true, value: 15 });
    expect(parseTtlMinutes("10080")).toEqual({ ok: true, value: 10080 });
  });

  for (const text of ["0", "10081", "1.5", "-3", "", "abc"]) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      expect(parseTtlMinutes(text).ok).toBe(false);
    });
  }
});
