/**
 * Step changes in a level, by binary segmentation: split a series where the means of the two
 * sides differ most (CUSUM: |m1 − m2| · √(n1·n2 / n)); keep the split when both sides hold
 * minSegment points, the level moves by at least minShift of the larger side, and the difference
 * is at least minScore standard errors, the noise σ estimated robustly from the whole series as
 * 1.4826 · median|y[i+1] − y[i]| / √2 (steps barely move it); then look again on each side.
 * Input: bucket medians in time order. Pure.
 */
import { percentileSelect } from './stats.js';

export interface ChangePointRule {
  minSegment: number;
  minShift: number;
  minScore: number;
  /** Stop after this many (a guard, not a statistic). */
  maxChanges?: number;
}

function noiseSigma(y: ArrayLike<number>): number {
  const diffs = Float64Array.from({ length: Math.max(0, y.length - 1) }, (_, i) => Math.abs(y[i + 1]! - y[i]!));
  return (1.4826 * (percentileSelect(diffs, 0.5) ?? 0)) / Math.SQRT2;
}

/** Indices where a new level starts, ascending. */
export function changePoints(y: ArrayLike<number>, rule: ChangePointRule): number[] {
  const n = y.length;
  const sum = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) sum[i + 1] = sum[i]! + y[i]!;
  const sigma = noiseSigma(y);
  const maxChanges = rule.maxChanges ?? 10;
  const found: number[] = [];
  const pending: [number, number][] = [[0, n]];
  while (pending.length > 0 && found.length < maxChanges) {
    const [lo, hi] = pending.shift()!;
    const split = bestSplit(sum, lo, hi, sigma, rule);
    if (split === null) continue;
    found.push(split);
    pending.push([lo, split], [split, hi]);
  }
  return found.sort((a, b) => a - b);
}

function bestSplit(sum: Float64Array, lo: number, hi: number, sigma: number, rule: ChangePointRule): number | null {
  let best: number | null = null;
  let bestCusum = -1;
  for (let k = lo + rule.minSegment; k <= hi - rule.minSegment; k++) {
    const n1 = k - lo;
    const n2 = hi - k;
    const diff = Math.abs((sum[k]! - sum[lo]!) / n1 - (sum[hi]! - sum[k]!) / n2);
    const cusum = diff * Math.sqrt((n1 * n2) / (n1 + n2));
    if (cusum > bestCusum) {
      best = k;
      bestCusum = cusum;
    }
  }
  if (best === null) return null;
  const n1 = best - lo;
  const n2 = hi - best;
  const m1 = (sum[best]! - sum[lo]!) / n1;
  const m2 = (sum[hi]! - sum[best]!) / n2;
  const diff = Math.abs(m1 - m2);
  const larger = Math.max(Math.abs(m1), Math.abs(m2));
  const se = sigma * Math.sqrt(1 / n1 + 1 / n2);
  const score = se > 0 ? diff / se : diff > 0 ? Infinity : 0;
  return larger > 0 && diff / larger >= rule.minShift && score >= rule.minScore ? best : null;
}
