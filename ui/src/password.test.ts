import { describe, expect, it } from "vitest";

import { newPasswordProblem } from "./password";

describe("newPasswordProblem", () => {
  const cases: { name: string; args: [string, string, string]; want: string }[] = [
    { name: "accepts a good change", args: ["old-password", "a-new-password", "a-new-password"], want: "" },
    { name: "needs the current password", args: ["", "a-new-password", "a-new-password"], want: "Enter your current password." },
    { name: "refuses 11 characters", args: ["old", "12345678901", "12345678901"], want: "The new password needs at least 12 characters." },
    { name: "counts characters, not UTF-16 units", args: ["old", "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑", "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑"], want: "The new password needs at least 12 characters." },
    { name: "accepts exactly 12", args: ["old", "123456789012", "123456789012"], want: "" },
    { name: "refuses a mismatch", args: ["old", "a-new-password", "a-new-passw0rd"], want: "The two new passwords differ." },
    { name: "refuses reuse", args: ["same-password-1", "same-password-1", "same-password-1"], want: "The new password must differ from the current one." },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(newPasswordProblem(...c.args)).toBe(c.want);
    });
  }
});
