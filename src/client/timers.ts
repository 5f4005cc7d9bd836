/** Injectable wall clock and timers (tests and the simulator drive their own). */
export interface Timers {
  /** Wall clock, ms since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout's delay is a signed 32-bit ms count; longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
