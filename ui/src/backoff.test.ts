import { describe, expect, it } from "vitest";

import { backoffDelay, sleep } from "./backoff";

const policy = { initialMs: 1000, maxMs: 30_000 };

describe("backoffDelay", () => {
  it.each([
    { attempt: 0, random: 0, want: 500 },
    { attempt: 0, random: 0.999, want: 1000 },
    { attempt: 1, random: 0, want: 1000 },
    { attempt: 3, random: 0.5, want: 6000 },
    { attempt: 5, random: 0, want: 15_000 },
    { attempt: 10, random: 0.999, want: 29_985 },
    { attempt: 1000, random: 0, want: 15_000 },
    { attempt: -1, random: 0, want: 500 },
  ])("attempt $attempt with random $random", ({ attempt, random, want }) => {
    expect(backoffDelay(attempt, () => random, policy)).toBe(want);
  });
});

describe("sleep", () => {
  it("resolves at once when the signal is already aborted", async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(sleep(60_000, abort.signal)).resolves.toBeUndefined();
  });

  it("resolves early when the signal aborts", async () => {
    const abort = new AbortController();
    const done = sleep(60_000, abort.signal);
    abort.abort();
    await expect(done).resolves.toBeUndefined();
  });
});
