/**
 * Bounded polling with exponential backoff, on an injected clock so tests run it on
 * virtual time: a poll gives up at its deadline or after maxAttempts, whichever is first.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A clock whose sleep advances time at once: for tests and the simulation. */
export function virtualClock(start = Date.parse("2026-12-01T10:00:00Z")): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      await Promise.resolve();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

export interface PollSettings {
  /** @default 2000 */
  readonly initialDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
  /** @default 1.6 */
  readonly factor?: number;
  /** @default 200 */
  readonly maxAttempts?: number;
}

export class PollTimeoutError extends Error {
  constructor(what: string, readonly attempts: number, readonly lastObserved: string) {
    super(`Gave up waiting for ${what} after ${attempts} checks; last observed: ${lastObserved}`);
    this.name = "PollTimeoutError";
  }
}

/**
 * Calls `check` until it reports done; waits with backoff in between. `check` returns
 * what it saw, so a timeout names the last observed state.
 */
export async function pollUntil(
  what: string,
  check: () => Promise<{ done: boolean; observed: string }>,
  timeoutMs: number,
  clock: Clock,
  settings: PollSettings = {},
): Promise<string> {
  const deadline = clock.now() + timeoutMs;
  const maxAttempts = settings.maxAttempts ?? 200;
  let delay = settings.initialDelayMs ?? 2000;
  let observed = "nothing yet";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const result = await check();
    observed = result.observed;
    if (result.done) return observed;
    if (clock.now() + delay > deadline || attempt === maxAttempts) throw new PollTimeoutError(what, attempt, observed);
    await clock.sleep(delay);
    delay = Math.min(delay * (settings.factor ?? 1.6), settings.maxDelayMs ?? 30000);
  }
  throw new PollTimeoutError(what, maxAttempts, observed);
}
