// Second-factor (TOTP) logic of the login form and of enrollment, kept
// apart from the components so that each transition is testable.

import { Code, ConnectError } from "@connectrpc/connect";

import { describeError } from "./api";

// Reports whether a Login error requests the authenticator code: the
// password was right, but the user has TOTP and the request had no code.
export function isTotpCodeRequired(err: unknown): boolean {
  const e = ConnectError.from(err);
  return e.code === Code.FailedPrecondition && /TOTP code is required/i.test(e.rawMessage);
}

// Reports whether a call was refused because the operator requires admins
// to enroll TOTP and this admin has not yet. Only the enrollment calls work
// until then.
export function isTotpEnrollFirst(err: unknown): boolean {
  const e = ConnectError.from(err);
  return e.code === Code.PermissionDenied && /enroll a TOTP/i.test(e.rawMessage);
}

export type ParsedCode = { ok: true; value: string } | { ok: false; error: string };

// Accepts the six digits an authenticator app shows, with the space some
// apps put in the middle.
export function parseTotpCode(input: string): ParsedCode {
  const value = input.replace(/[\s-]/g, "");
  if (!/^\d{6}$/.test(value)) {
    return { ok: false, error: "Enter the 6-digit code your authenticator app shows." };
  }
  return { ok: true, value };
}

// Login form state. The password stays in memory during the code step,
// since Login needs it again together with the code.
export interface LoginState {
  step: "password" | "code";
  error: string;
}

export const initialLogin: LoginState = { step: "password", error: "" };

// Returns the state after a failed Login.
export function loginFailed(state: LoginState, err: unknown): LoginState {
  if (isTotpCodeRequired(err)) {
    return { step: "code", error: state.step === "code" ? "Enter the code from your authenticator app." : "" };
  }
  const code = ConnectError.from(err).code;
  if (state.step === "code" && (code === Code.Unauthenticated || code === Code.InvalidArgument)) {
    // A wrong or already used code fails like a wrong password, so the
    // error does not reveal which of the two was wrong.
    return { step: "code", error: "The code was not accepted. Wait for the next code and try again." };
  }
  return { step: "password", error: loginErrorMessage(err) };
}

export function loginErrorMessage(err: unknown): string {
  switch (ConnectError.from(err).code) {
    case Code.Unauthenticated:
    case Code.PermissionDenied:
      return "Invalid user name or password.";
    case Code.ResourceExhausted:
      return "Too many login attempts. Wait a moment and try again.";
    case Code.Unavailable:
      return "The control plane is not reachable. Try again shortly.";
    default:
      return `Login failed: ${describeError(err)}`;
  }
}

// Enrollment: Begin returns a key once, Confirm activates it with a code.
export type Enrollment =
  | { step: "start"; error: string }
  | { step: "scan"; secret: string; url: string; error: string }
  | { step: "done" };

export type EnrollmentEvent =
  | { type: "begun"; secret: string; url: string }
  | { type: "failed"; error: string }
  | { type: "confirmed" }
  | { type: "restart" };

export function enrollmentReducer(state: Enrollment, event: EnrollmentEvent): Enrollment {
  switch (event.type) {
    case "begun":
      return { step: "scan", secret: event.secret, url: event.url, error: "" };
    case "failed":
      return state.step === "done" ? state : { ...state, error: event.error };
    case "confirmed":
      return state.step === "scan" ? { step: "done" } : state;
    case "restart":
      return { step: "start", error: "" };
  }
}

// Groups a base32 key in fours, the way it is easiest to type.
export function groupSecret(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

// Explains a ConfirmTotpEnrollment or DisableTotp error.
export function codeErrorMessage(err: unknown): string {
  const e = ConnectError.from(err);
  if (e.code === Code.InvalidArgument) {
    return "The code was not accepted. Check the device clock and enter the current code.";
  }
  if (e.code === Code.FailedPrecondition) {
    return `Not possible now: ${e.rawMessage}`;
  }
  return describeError(err);
}
