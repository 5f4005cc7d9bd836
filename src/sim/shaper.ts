import type { Shaper } from '../server/transfer.js';

/**
 * Token bucket in bytes: `rate()` bytes per real second refill it, up to `burstBytes`. `reserve`
 * takes tokens (going negative) and says how long the sender must wait for the debt to clear, so
 * senders sharing one bucket share its rate.
 */
export class TokenBucket implements Shaper {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rateBytesPerSec: () => number,
    private readonly burstBytes: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burstBytes;
    this.last = now();
  }

  reserve(bytes: number): number {
    const t = this.now();
    const rate = Math.max(1, this.rateBytesPerSec());
    this.tokens = Math.min(this.burstBytes, this.tokens + ((t - this.last) / 1000) * rate);
    this.last = t;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens / rate) * 1000;
  }
}

/** A transfer paced by every bucket on its path (access link and shared link): it waits for the slowest. */
export class PathShaper implements Shaper {
  constructor(private readonly buckets: readonly Shaper[]) {}

  reserve(bytes: number): number {
    let wait = 0;
    for (const b of this.buckets) wait = Math.max(wait, b.reserve(bytes));
    return wait;
  }
}

export const mbpsToBytesPerSec = (mbps: number): number => (mbps * 1e6) / 8;
