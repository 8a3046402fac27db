// Reconnect delays for the event stream.

export interface BackoffPolicy {
  // Delay ceiling before the first retry, in milliseconds.
  initialMs: number;
  // Largest delay ceiling, in milliseconds.
  maxMs: number;
}

// One second doubles to half a minute: quick enough after a server restart,
// slow enough not to hammer a control plane that is down.
export const defaultBackoff: BackoffPolicy = { initialMs: 1000, maxMs: 30_000 };

// Returns the delay before retry number attempt (0 for the first retry).
// The ceiling doubles per attempt up to policy.maxMs, and the delay is drawn
// uniformly from the upper half of the ceiling, so dashboards that lost the
// server together do not reconnect in step. random returns a value in [0, 1).
export function backoffDelay(
  attempt: number,
  random: () => number,
  policy: BackoffPolicy = defaultBackoff,
): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// Resolves after ms milliseconds, or early when signal aborts.
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });

    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
