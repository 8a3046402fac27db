import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";

import { describeError, isCanceled, isUnauthenticated } from "./api";

describe("error classification", () => {
  it("recognizes Unauthenticated", () => {
    expect(isUnauthenticated(new ConnectError("no session", Code.Unauthenticated))).toBe(true);
  });

  it("does not treat PermissionDenied as a lost session", () => {
    expect(isUnauthenticated(new ConnectError("role", Code.PermissionDenied))).toBe(false);
  });

  it("recognizes a cancelled call", () => {
    expect(isCanceled(new ConnectError("stop", Code.Canceled))).toBe(true);
    expect(isCanceled(new DOMException("stop", "AbortError"))).toBe(true);
  });

  it("does not treat other errors as cancelled", () => {
    expect(isCanceled(new ConnectError("down", Code.Unavailable))).toBe(false);
  });

  it("describes an error by code and message", () => {
    expect(describeError(new ConnectError("connection refused", Code.Unavailable))).toBe(
      "unavailable: connection refused",
    );
    expect(describeError(new ConnectError("", Code.DeadlineExceeded))).toBe("deadline exceeded");
  });
});
