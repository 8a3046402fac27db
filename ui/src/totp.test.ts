import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import {
  enrollmentReducer,
  groupSecret,
  initialLogin,
  isTotpCodeRequired,
  isTotpEnrollFirst,
  loginFailed,
  parseTotpCode,
  type Enrollment,
} from "./totp";

const codeRequired = new ConnectError("a TOTP code is required for this user", Code.FailedPrecondition);
const wrongPassword = new ConnectError("invalid user name or password", Code.Unauthenticated);

describe("login with a second factor", () => {
  it("recognises the server's request for a code", () => {
    expect(isTotpCodeRequired(codeRequired)).toBe(true);
    expect(isTotpCodeRequired(new ConnectError("password change required", Code.FailedPrecondition))).toBe(false);
    expect(isTotpCodeRequired(wrongPassword)).toBe(false);
  });

  it("moves to the code step without an error when the password was right", () => {
    expect(loginFailed(initialLogin, codeRequired)).toEqual({ step: "code", error: "" });
  });

  it("stays on the code step after a wrong code", () => {
    const next = loginFailed({ step: "code", error: "" }, wrongPassword);
    expect(next.step).toBe("code");
    expect(next.error).toContain("code was not accepted");
    expect(loginFailed({ step: "code", error: "" }, new ConnectError("bad code", Code.InvalidArgument)).step).toBe("code");
  });

  it("asks again when the code step was sent without a code", () => {
    expect(loginFailed({ step: "code", error: "" }, codeRequired)).toEqual({
      step: "code",
      error: "Enter the code from your authenticator app.",
    });
  });

  it("returns to the password step on other failures", () => {
    expect(loginFailed(initialLogin, wrongPassword)).toEqual({
      step: "password",
      error: "Invalid user name or password.",
    });
    expect(loginFailed({ step: "code", error: "" }, new ConnectError("slow down", Code.ResourceExhausted))).toEqual({
      step: "password",
      error: "Too many login attempts. Wait a moment and try again.",
    });
  });

  it("accepts six digits with the separator apps show", () => {
    expect(parseTotpCode(" 123 456 ")).toEqual({ ok: true, value: "123456" });
    expect(parseTotpCode("123-456")).toEqual({ ok: true, value: "123456" });
    expect(parseTotpCode("12345").ok).toBe(false);
    expect(parseTotpCode("12345a").ok).toBe(false);
    expect(parseTotpCode("1234567").ok).toBe(false);
  });

  it("recognises a session that must enroll first", () => {
    const err = new ConnectError("admins must enroll a TOTP authenticator before anything else", Code.PermissionDenied);
    expect(isTotpEnrollFirst(err)).toBe(true);
    expect(isTotpEnrollFirst(new ConnectError("permission denied", Code.PermissionDenied))).toBe(false);
  });
});

describe("enrollment", () => {
  const start: Enrollment = { step: "start", error: "" };

  it("shows the key after Begin and finishes after Confirm", () => {
    const scan = enrollmentReducer(start, { type: "begun", secret: "JBSWY3DPEHPK3PXP", url: "otpauth://totp/x" });
    expect(scan).toEqual({ step: "scan", secret: "JBSWY3DPEHPK3PXP", url: "otpauth://totp/x", error: "" });
    const failed = enrollmentReducer(scan, { type: "failed", error: "wrong code" });
    expect(failed).toEqual({ ...scan, error: "wrong code" });
    expect(enrollmentReducer(failed, { type: "confirmed" })).toEqual({ step: "done" });
  });

  it("ignores a confirmation before a key exists and errors after the end", () => {
    expect(enrollmentReducer(start, { type: "confirmed" })).toBe(start);
    const done: Enrollment = { step: "done" };
    expect(enrollmentReducer(done, { type: "failed", error: "late" })).toBe(done);
    expect(enrollmentReducer(done, { type: "restart" })).toEqual(start);
  });

  it("groups the key in fours for typing", () => {
    expect(groupSecret("JBSWY3DPEHPK3PXP")).toBe("JBSW Y3DP EHPK 3PXP");
    expect(groupSecret("ABCDEF")).toBe("ABCD EF");
  });
});
