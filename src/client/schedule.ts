/**
 * When to measure. A plan yields successive fire times; the scheduler runs the task at each one,
 * never two at once: fire times that pass while a run is busy are skipped (counted and reported),
 * not queued, so a slow network does not turn into a burst of back-to-back measurements.
 */
import { Cron } from 'croner';
import { UsageError, errorMessage } from '../errors.js';
import { MAX_TIMER_MS, type Timers, systemTimers } from './timers.js';

export type ScheduleSpec =
  /** Every intervalMs, each run delayed by a uniform random share in [0, jitter) of the interval. */
  | { kind: 'interval'; intervalMs: number; jitter: number }
  /** A Poisson process: exponentially distributed gaps with mean meanMs (PASTA: unbiased sampling of load). */
  | { kind: 'poisson'; meanMs: number }
  /** croner expression (5 or 6 fields), wall-clock time in `timezone` (default: local). */
  | { kind: 'cron'; expression: string; timezone?: string | undefined };

/** Successive fire times in ms since the epoch, non-decreasing; Infinity when there is none. */
export interface Plan {
  next(): number;
}

/**
 * Builds the plan from `startMs`. Interval: slot k is at start + k·interval (the first run at the
 * start, plus jitter). Poisson: the first run one exponential gap after the start. Cron: the
 * first matching time after the start.
 */
export function createPlan(spec: ScheduleSpec, startMs: number, random: () => number = Math.random): Plan {
  switch (spec.kind) {
    case 'interval': {
      if (!(spec.intervalMs > 0)) throw new UsageError(`interval must be positive (got ${spec.intervalMs} ms)`);
      if (!(spec.jitter >= 0 && spec.jitter <= 1)) throw new UsageError(`jitter must be between 0% and 100% (got ${spec.jitter * 100}%)`);
      let slot = 0;
      return { next: () => startMs + slot++ * spec.intervalMs + random() * spec.jitter * spec.intervalMs };
    }
    case 'poisson': {
      if (!(spec.meanMs > 0)) throw new UsageError(`poisson mean must be positive (got ${spec.meanMs} ms)`);
      let at = startMs;
      return { next: () => (at += -spec.meanMs * Math.log(1 - random())) };
    }
    case 'cron': {
      let cron: Cron;
      try {
        cron = new Cron(spec.expression, { paused: true, ...(spec.timezone === undefined ? {} : { timezone: spec.timezone }) });
      } catch (err) {
        throw new UsageError(`invalid cron expression '${spec.expression}': ${errorMessage(err)}`, { cause: err });
      }
      let at = startMs;
      return {
        next: () => {
          const next = cron.nextRun(new Date(at));
          at = next === null ? Infinity : next.getTime();
          return at;
        },
      };
    }
    default: {
      const never: never = spec;
      throw new UsageError(`unknown schedule ${String(never)}`);
    }
  }
}

export interface RunInfo {
  /** 0-based index of this run. */
  index: number;
  /** Planned fire time, ms since the epoch. */
  scheduledAtMs: number;
}

export interface SchedulerOptions {
  timers?: Timers;
  /** Stop after this many runs (skipped fire times do not count). */
  count?: number | undefined;
  /** A fire time passed while a run was busy; the run at `nextAtMs` is next. */
  onSkip?: (scheduledAtMs: number, nextAtMs: number) => void;
  onError?: (err: unknown, run: RunInfo) => void;
}

export interface SchedulerStats {
  runs: number;
  skipped: number;
}

export class Scheduler {
  private readonly timers: Timers;
  private stopped = false;
  private timer: unknown;
  private wake: (() => void) | undefined;
  private loop: Promise<SchedulerStats> | undefined;
  readonly stats: SchedulerStats = { runs: 0, skipped: 0 };
  /** Next fire time (ms since the epoch) while waiting, else null. */
  nextAtMs: number | null = null;

  constructor(
    private readonly plan: Plan,
    private readonly task: (run: RunInfo) => Promise<void>,
    private readonly options: SchedulerOptions = {},
  ) {
    this.timers = options.timers ?? systemTimers;
  }

  /** Runs until `count` runs are done, the plan ends or stop() is called. */
  run(): Promise<SchedulerStats> {
    this.loop ??= this.runLoop();
    return this.loop;
  }

  /** No new run starts; a run in progress finishes. Resolves when the loop has ended. */
  async stop(): Promise<SchedulerStats> {
    this.stopped = true;
    this.wake?.();
    return (await this.loop) ?? this.stats;
  }

  private async runLoop(): Promise<SchedulerStats> {
    const count = this.options.count ?? Infinity;
    let at = this.plan.next();
    while (!this.stopped && this.stats.runs < count && Number.isFinite(at)) {
      await this.sleepUntil(at);
      if (this.stopped) break;
      const run = { index: this.stats.runs, scheduledAtMs: at };
      try {
        await this.task(run);
      } catch (err) {
        this.options.onError?.(err, run);
      }
      this.stats.runs++;
      if (this.stopped) break;
      at = this.plan.next();
      const now = this.timers.now();
      while (at < now) {
        const missed = at;
        at = this.plan.next();
        this.stats.skipped++;
        this.options.onSkip?.(missed, at);
      }
    }
    this.nextAtMs = null;
    return this.stats;
  }

  private sleepUntil(atMs: number): Promise<void> {
    this.nextAtMs = atMs;
    return new Promise<void>((resolve) => {
      const done = () => {
        this.timers.clearTimeout(this.timer);
        this.timer = undefined;
        this.wake = undefined;
        this.nextAtMs = null;
        resolve();
      };
      const step = () => {
        const waitMs = atMs - this.timers.now();
        if (waitMs <= 0 || this.stopped) done();
        else this.timer = this.timers.setTimeout(step, Math.min(waitMs, MAX_TIMER_MS));
      };
      this.wake = done;
      step();
    });
  }
}
