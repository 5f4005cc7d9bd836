/**
 * Simulated wall clock: a 24-hour day passes in `dayMs` real milliseconds. Durations measured by
 * the clients stay real (they are real downloads); only timestamps (startedAt, receivedAt) and the
 * load profile's hour of day follow the simulated clock.
 */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export class SimClock {
  /** Simulated milliseconds per real millisecond. */
  readonly factor: number;
  private realStart: number;

  constructor(
    /** Simulated start, ms since the epoch (UTC). */
    readonly startMs: number,
    dayMs: number,
    private readonly realNow: () => number = () => performance.now(),
  ) {
    if (!(dayMs > 0)) throw new RangeError('a simulated day must last more than 0 ms');
    this.factor = DAY_MS / dayMs;
    this.realStart = realNow();
  }

  /** The simulated start is now: call it when whatever must run first (a fleet's set-up) is done. */
  start(): void {
    this.realStart = this.realNow();
  }

  now = (): number => Math.floor(this.startMs + (this.realNow() - this.realStart) * this.factor);

  /** Real milliseconds until the simulated time `simMs` (0 when past). */
  realDelayUntil(simMs: number): number {
    return Math.max(0, (simMs - this.now()) / this.factor);
  }

  /** Hour of day (UTC, 0–23) and fraction of it at simulated time `simMs`. */
  static hourOf(simMs: number): number {
    return Math.floor((((simMs % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
  }
}
