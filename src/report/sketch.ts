/**
 * Bounded-memory summaries of many values, for the charts that need per-result distributions:
 * a log-binned histogram (values spread over orders of magnitude: latencies in ms) with quantiles
 * and CDF points read from it, and exact quantiles of sorted arrays thinned to a drawable size.
 */
import { percentileSorted } from '../analysis/stats.js';

/** 64 bins per decade: each bin is 3.7 % wide, so a quantile read from it is within ±1.8 %. */
const BINS_PER_DECADE = 64;
const MIN_LOG10 = -3;
const MAX_LOG10 = 8;
const BINS = (MAX_LOG10 - MIN_LOG10) * BINS_PER_DECADE;

const lowerEdge = (bin: number): number => 10 ** (MIN_LOG10 + bin / BINS_PER_DECADE);

/** A histogram of positive values on a log scale from 0.001 to 10⁸ (outside values go to the end bins). */
export class LogHistogram {
  private readonly counts = new Uint32Array(BINS);
  count = 0;

  private static bin(value: number): number {
    const bin = value <= 0 ? 0 : Math.floor((Math.log10(value) - MIN_LOG10) * BINS_PER_DECADE);
    return Math.min(BINS - 1, Math.max(0, bin));
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.counts[LogHistogram.bin(value)]!++;
    this.count++;
  }

  addAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.add(values[i]!);
  }

  /** Takes out a value added before (exact: the same bin is decremented). */
  remove(value: number): void {
    if (!Number.isFinite(value)) return;
    const bin = LogHistogram.bin(value);
    if (this.counts[bin]! === 0) return;
    this.counts[bin]!--;
    this.count--;
  }

  removeAll(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.remove(values[i]!);
  }

  merge(other: LogHistogram): void {
    for (let bin = 0; bin < BINS; bin++) this.counts[bin]! += other.counts[bin]!;
    this.count += other.count;
  }

  /** Quantile p (0..1), interpolated geometrically inside the bin that holds rank p·(n−1). */
  quantile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = p * (this.count - 1);
    let below = 0;
    for (let bin = 0; bin < BINS; bin++) {
      const n = this.counts[bin]!;
      if (n === 0) continue;
      if (below + n > rank) {
        const within = (rank - below + 0.5) / n;
        return lowerEdge(bin) * 10 ** (within / BINS_PER_DECADE);
      }
      below += n;
    }
    return lowerEdge(BINS);
  }

  /** [value, share of values ≤ value] at the upper edge of every occupied bin, from the first occupied bin. */
  cdf(): [number, number][] {
    const points: [number, number][] = [];
    if (this.count === 0) return points;
    let below = 0;
    for (let bin = 0; bin < BINS; bin++) {
      const n = this.counts[bin]!;
      if (n === 0 && below === 0) continue;
      if (points.length === 0) points.push([lowerEdge(bin), 0]);
      below += n;
      if (n > 0) points.push([lowerEdge(bin + 1), below / this.count]);
      if (below === this.count) break;
    }
    return points;
  }
}

/** Exact quantiles of `sorted` at each p (numpy's linear interpolation). */
export function quantiles(sorted: ArrayLike<number>, ps: readonly number[]): (number | null)[] {
  return ps.map((p) => percentileSorted(sorted, p));
}

/** The empirical CDF of `sorted` as at most `points` + 1 [value, share ≤ value] pairs (quantiles at even steps). */
export function cdfOfSorted(sorted: ArrayLike<number>, points = 200): [number, number][] {
  if (sorted.length === 0) return [];
  const out: [number, number][] = [];
  for (let i = 0; i <= points; i++) {
    const p = i / points;
    const value = percentileSorted(sorted, p);
    if (value !== null) out.push([value, p]);
  }
  return out;
}

/** Counts of values in [0, max) at fixed resolution, for medians of ratios (relative throughput). */
export class LinearHistogram {
  private readonly counts: Uint32Array;
  count = 0;

  constructor(
    private readonly max: number,
    private readonly bins: number,
  ) {
    this.counts = new Uint32Array(bins + 1);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    const bin = Math.max(0, Math.min(this.bins, Math.floor((value / this.max) * this.bins)));
    this.counts[bin]!++;
    this.count++;
  }

  /** Quantile p (0..1), interpolated linearly inside the bin that holds rank p·(n−1); values ≥ max read as max. */
  quantile(p: number): number | null {
    if (this.count === 0) return null;
    const rank = p * (this.count - 1);
    const width = this.max / this.bins;
    let below = 0;
    for (let bin = 0; bin <= this.bins; bin++) {
      const n = this.counts[bin]!;
      if (n > 0 && below + n > rank) return Math.min(this.max, (bin + (rank - below + 0.5) / n) * width);
      below += n;
    }
    return this.max;
  }
}
