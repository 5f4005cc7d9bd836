/**
 * Variation over time: each client's results in fixed buckets (median and p10–p90 band of
 * throughput), its trend (Theil–Sen slope of the bucket medians, Mbit/s per day) and its level
 * changes; and a network line: per bucket, percentiles over clients of their bucket median over
 * their own baseline (1 = at baseline), so fast and slow clients can share one line. Buckets are
 * aligned to multiples of their width since the Unix epoch (UTC). Pure.
 */
import type { ClientMeasurements } from '../store/analysis-types.js';
import { changePoints } from './changepoints.js';
import { BUCKETS_MS, type Thresholds } from './options.js';
import { iso, r3, r3n, r4, r4n } from './round.js';
import { median, percentileSorted, theilSen } from './stats.js';
import type { ChangePoint, NetworkPoint, SeriesPoint, Trend } from './types.js';

const DAY_MS = 86_400_000;

/** Bucket widths below 5 min, for short windows (each divides 5 min). */
const SHORT_BUCKETS_MS = [5_000, 10_000, 30_000, 60_000] as const;
/** Buckets a short window should have, so a chart of a first run draws a line, not a dot. */
export const MIN_SERIES_BUCKETS = 10;

/**
 * The widest of 5 s, 10 s, 30 s, 1 min and 5 min that still gives MIN_SERIES_BUCKETS buckets (5 s
 * for anything shorter than 50 s); 5 min up to 2 days, 1 h up to 16 days, else 1 day (a few hundred
 * buckets at most per year). No span (no results, or one): 5 min.
 */
export function chooseBucketMs(spanMs: number): number {
  if (spanMs > 0 && spanMs < MIN_SERIES_BUCKETS * BUCKETS_MS.fiveMinutes) {
    return [...SHORT_BUCKETS_MS].reverse().find((w) => spanMs / w >= MIN_SERIES_BUCKETS) ?? SHORT_BUCKETS_MS[0];
  }
  if (spanMs <= 2 * DAY_MS) return BUCKETS_MS.fiveMinutes;
  if (spanMs <= 16 * DAY_MS) return BUCKETS_MS.hour;
  return BUCKETS_MS.day;
}

/** A bucket with numbers, before rounding. */
export interface Bucket {
  startMs: number;
  downloads: number;
  failed: number;
  median: number | null;
  p10: number | null;
  p90: number | null;
}

export function clientBuckets(m: ClientMeasurements, bucketMs: number): Bucket[] {
  const buckets: Bucket[] = [];
  const n = m.startedAtMs.length;
  for (let i = 0; i < n;) {
    const startMs = Math.floor(m.startedAtMs[i]! / bucketMs) * bucketMs;
    const rates: number[] = [];
    let downloads = 0;
    let failed = 0;
    for (; i < n && m.startedAtMs[i]! < startMs + bucketMs; i++) {
      downloads++;
      if (m.failed[i] === 1) failed++;
      else if (!Number.isNaN(m.throughputMbps[i]!)) rates.push(m.throughputMbps[i]!);
    }
    const sorted = Float64Array.from(rates).sort();
    buckets.push({
      startMs,
      downloads,
      failed,
      median: percentileSorted(sorted, 0.5),
      p10: percentileSorted(sorted, 0.1),
      p90: percentileSorted(sorted, 0.9),
    });
  }
  return buckets;
}

export function seriesPoints(buckets: readonly Bucket[]): SeriesPoint[] {
  return buckets.map((b) => ({
    start: iso(b.startMs),
    downloads: b.downloads,
    failed: b.failed,
    medianMbps: r3n(b.median),
    p10Mbps: r3n(b.p10),
    p90Mbps: r3n(b.p90),
  }));
}

/** Buckets that have a median, as (x = bucket middle in days, y = median). */
function levels(buckets: readonly Bucket[], bucketMs: number): { startMs: number; x: number; y: number }[] {
  return buckets
    .filter((b) => b.median !== null)
    .map((b) => ({ startMs: b.startMs, x: (b.startMs + bucketMs / 2) / DAY_MS, y: b.median! }));
}

export function trend(buckets: readonly Bucket[], bucketMs: number, t: Thresholds): Trend | null {
  const points = levels(buckets, bucketMs);
  if (points.length < t.minTrendPoints) return null;
  const slope = theilSen(
    points.map((p) => p.x),
    points.map((p) => p.y),
  );
  if (slope === null) return null;
  const level = median(Float64Array.from(points, (p) => p.y).sort());
  return { slopeMbpsPerDay: r4(slope), slopeFractionPerDay: level ? r4(slope / level) : null, points: points.length };
}

export function levelChanges(buckets: readonly Bucket[], bucketMs: number, t: Thresholds): ChangePoint[] {
  const points = levels(buckets, bucketMs);
  const y = points.map((p) => p.y);
  const at = changePoints(y, { minSegment: t.changeMinSegment, minShift: t.changeMinShift, minScore: t.changeMinScore });
  const bounds = [0, ...at, y.length];
  return at.map((k, i) => {
    const before = median(Float64Array.from(y.slice(bounds[i]!, k)).sort())!;
    const after = median(Float64Array.from(y.slice(k, bounds[i + 2]!)).sort())!;
    return {
      at: iso(points[k]!.startMs),
      beforeMbps: r3(before),
      afterMbps: r3(after),
      change: r4n(before > 0 ? (after - before) / before : null),
    };
  });
}

/** Network line from each client's buckets and baseline (clients without a baseline are left out). */
export function networkSeries(clients: readonly { buckets: readonly Bucket[]; baselineMbps: number | null }[]): NetworkPoint[] {
  const byStart = new Map<number, number[]>();
  for (const c of clients) {
    if (c.baselineMbps === null || c.baselineMbps <= 0) continue;
    for (const b of c.buckets) {
      if (b.median === null) continue;
      let list = byStart.get(b.startMs);
      if (!list) byStart.set(b.startMs, (list = []));
      list.push(b.median / c.baselineMbps);
    }
  }
  return [...byStart.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([startMs, values]) => {
      const sorted = Float64Array.from(values).sort();
      return {
        start: iso(startMs),
        clients: values.length,
        medianRelative: r4(percentileSorted(sorted, 0.5)!),
        p10Relative: r4(percentileSorted(sorted, 0.1)!),
        p90Relative: r4(percentileSorted(sorted, 0.9)!),
      };
    });
}
