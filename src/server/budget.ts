/**
 * Fair share per client certificate: token buckets for REPORT results and for REPORT bytes (the
 * CPU of parsing and validating them). A client beyond its budget gets BUSY with a retry-after and
 * its frame is not parsed; one flooding client cannot take the store or the CPU from the others.
 * A multi-process server keeps the buckets in the primary (workers ask over IPC), so the budget is
 * per client, not per worker.
 */

export interface BudgetLimits {
  /** Results a client may report per minute; also the burst (a full bucket). */
  resultsPerMinute: number;
  /** REPORT payload bytes a client may send per minute; also the burst. */
  reportBytesPerMinute: number;
}

export interface Cost {
  results?: number;
  reportBytes?: number;
}

/** 0 when granted, else how long until it would be (ms); nothing is taken when refused. */
export interface Budget {
  take(client: string, cost: Cost): Promise<number>;
}

const MINUTE_MS = 60_000;
/** Buckets of clients quiet this long are full again: forgotten, so memory follows active clients. */
const FORGET_AFTER_MS = 2 * MINUTE_MS;

interface Bucket {
  results: number;
  reportBytes: number;
  atMs: number;
}

/** The buckets themselves: pure arithmetic on an injected monotonic clock. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweepMs: number;

  constructor(
    private readonly limits: BudgetLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastSweepMs = now();
  }

  /** 0 and the cost taken, or the ms until the bucket holds it (nothing taken). */
  take(client: string, cost: Cost): number {
    const nowMs = this.now();
    this.sweep(nowMs);
    const b = this.refill(client, nowMs);
    // A cost above the burst could never be granted: it waits for a full bucket instead.
    const results = Math.min(cost.results ?? 0, this.limits.resultsPerMinute);
    const reportBytes = Math.min(cost.reportBytes ?? 0, this.limits.reportBytesPerMinute);
    const waitMs = Math.max(
      ((results - b.results) / this.limits.resultsPerMinute) * MINUTE_MS,
      ((reportBytes - b.reportBytes) / this.limits.reportBytesPerMinute) * MINUTE_MS,
      0,
    );
    if (waitMs > 0) return Math.ceil(waitMs);
    b.results -= results;
    b.reportBytes -= reportBytes;
    return 0;
  }

  /** Clients with a bucket now (tests, metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private refill(client: string, nowMs: number): Bucket {
    const { resultsPerMinute, reportBytesPerMinute } = this.limits;
    let b = this.buckets.get(client);
    if (b === undefined) {
      b = { results: resultsPerMinute, reportBytes: reportBytesPerMinute, atMs: nowMs };
      this.buckets.set(client, b);
      return b;
    }
    const elapsed = Math.max(0, nowMs - b.atMs) / MINUTE_MS;
    b.results = Math.min(resultsPerMinute, b.results + elapsed * resultsPerMinute);
    b.reportBytes = Math.min(reportBytesPerMinute, b.reportBytes + elapsed * reportBytesPerMinute);
    b.atMs = nowMs;
    return b;
  }

  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < FORGET_AFTER_MS) return;
    this.lastSweepMs = nowMs;
    for (const [client, b] of this.buckets) if (nowMs - b.atMs >= FORGET_AFTER_MS) this.buckets.delete(client);
  }
}

/** The buckets of this process (single-process server, or the primary answering its workers). */
export function localBudget(limits: BudgetLimits): Budget & { buckets: TokenBuckets } {
  const buckets = new TokenBuckets(limits);
  return { buckets, take: async (client, cost) => buckets.take(client, cost) };
}
