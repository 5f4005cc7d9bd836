import type { Timers } from '../../../src/client/timers.js';

interface Entry {
  id: number;
  atMs: number;
  fn: () => void;
}

/** Hand-driven wall clock and timers: time moves only when the test says so. */
export class FakeTimers implements Timers {
  private entries: Entry[] = [];
  private nextId = 1;
  private waiters: (() => void)[] = [];

  constructor(public nowMs = 1_700_000_000_000) {}

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { id: this.nextId++, atMs: this.nowMs + Math.max(0, ms), fn };
    this.entries.push(entry);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    return entry.id;
  }

  clearTimeout(handle: unknown): void {
    this.entries = this.entries.filter((e) => e.id !== handle);
  }

  get pending(): number {
    return this.entries.length;
  }

  /** Resolves once a timer is pending (the code under test reached its next wait). */
  whenTimerSet(): Promise<void> {
    if (this.entries.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Moves the clock to the earliest timer and runs it. Returns its due time. */
  fireNext(): number {
    const entry = this.entries.reduce<Entry | undefined>((a, e) => (a === undefined || e.atMs < a.atMs ? e : a), undefined);
    if (entry === undefined) throw new Error('no timer pending');
    this.entries = this.entries.filter((e) => e !== entry);
    this.nowMs = Math.max(this.nowMs, entry.atMs);
    entry.fn();
    return entry.atMs;
  }

  /** Time passes without firing timers (a long-running task). */
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

export { seededRandom } from '../../../src/sim/random.js';
