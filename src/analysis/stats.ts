/** Small, exact statistics on typed arrays. Pure. */
import { percentileSelect, percentileSorted } from '../store/quantile.js';

export { percentileSelect, percentileSorted };

export function mean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/** Sample standard deviation (n − 1), two-pass; null below two values. */
export function sampleStdDev(values: ArrayLike<number>): number | null {
  const m = mean(values);
  if (m === null || values.length < 2) return null;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export function median(sorted: ArrayLike<number>): number | null {
  return percentileSorted(sorted, 0.5);
}

/** At most this many points enter Theil–Sen (n² / 2 slopes); more are thinned evenly. */
export const MAX_THEIL_SEN_POINTS = 1_000;

/**
 * Theil–Sen slope: the median of the slopes between all pairs of points with distinct x. Robust
 * to outliers (breakdown 29 %). Null with fewer than two distinct x.
 */
export function theilSen(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const stride = Math.ceil(x.length / MAX_THEIL_SEN_POINTS);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < x.length; i += stride) {
    xs.push(x[i]!);
    ys.push(y[i]!);
  }
  const n = xs.length;
  const slopes = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = xs[j]! - xs[i]!;
      if (dx !== 0) slopes[k++] = (ys[j]! - ys[i]!) / dx;
    }
  }
  return percentileSelect(slopes.subarray(0, k), 0.5);
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p), exact (summed in ratios to the first term, so large n do not
 * overflow). Used to ask whether one count beats another by more than chance.
 */
export function binomialUpperTail(k: number, n: number, p = 0.5): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  // log P(X = k) = log C(n, k) + k log p + (n − k) log(1 − p)
  let logFirst = k * Math.log(p) + (n - k) * Math.log1p(-p);
  for (let j = 1; j <= k; j++) logFirst += Math.log(n - k + j) - Math.log(j);
  let term = 1;
  let sum = 1;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.min(1, Math.exp(logFirst) * sum);
}
