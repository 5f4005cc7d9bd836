/**
 * The per-result chart data beyond the analysis summary. The pooled part comes from the analysis's
 * own read of the store (collect.ts); this second read covers only the featured clients (the few
 * drawn one by one), exactly:
 *
 * - latency and response-time CDFs of each featured client (exact quantiles), and of the others
 *   (the pooled histograms less the featured clients' results);
 * - SmokePing-style download-time quantiles per time bucket, exact per featured client, from the
 *   histograms (within ±2 %) for the others;
 * - the weekday × hour matrix of relative throughput (the median, over the cell's successful
 *   results of clients with a baseline, of throughput ÷ that client's baseline; null below
 *   `minClientHourSamples` results).
 */
import { percentileSorted } from '../analysis/stats.js';
import { LocalClock, offsetSpans } from '../analysis/timezone.js';
import type { AnalysisSummary } from '../analysis/types.js';
import type { ClientMeasurements } from '../store/analysis-types.js';
import type { AnalysisSource, ResultFilter } from '../store/types.js';
import { PooledCollector, localWallMs, successfulSorted } from './collect.js';
import type { Featured } from './select.js';
import { LogHistogram, cdfOfSorted, quantiles } from './sketch.js';

export { localWallMs } from './collect.js';

/** Smoke layers: symmetric pairs around the median (5–95, 10–90, 25–75) and the median. */
export const SMOKE_QUANTILES = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95] as const;
/** Smoke bucket widths; each divides the next, so fine pooled buckets merge into any wider one. */
const SMOKE_BUCKETS_MS = [5 / 60, 10 / 60, 0.5, 1, 5, 10, 30, 60, 120, 360, 720, 1440, 2880, 10080].map((m) => Math.round(m * 60_000));
const MAX_SMOKE_BUCKETS = 240;
const MIN_SMOKE_BUCKETS = 12;
/** Results a featured client should have in a bucket for its smoke to show a spread. */
const MIN_BUCKET_RESULTS = 8;

export interface Group {
  /** Client name, or the label of the others group. */
  label: string;
  /** True for the group of the clients not drawn one by one. */
  others: boolean;
  clients: number;
}

export interface LatencyDistribution extends Group {
  /** [ms, share of successful downloads ≤ ms]. */
  downloadMs: [number, number][];
  responseMs: [number, number][];
  samples: number;
}

export interface SmokeBucket {
  /** Bucket start, local wall-clock time as if UTC (see `localWallMs`). */
  start: number;
  downloads: number;
  failed: number;
  /** Download time quantiles at SMOKE_QUANTILES; null without a successful download. */
  q: (number | null)[] | null;
}

export interface SmokeSeries extends Group {
  points: SmokeBucket[];
}

export interface ReportData {
  smokeBucketMs: number;
  latency: LatencyDistribution[];
  smoke: SmokeSeries[];
  /** 168 cells, (ISO weekday − 1) × 24 + hour: median relative throughput of the results there, and how many. */
  weekdayHour: { relative: number | null; results: number }[];
}

/** The finest width that keeps at most MAX_SMOKE_BUCKETS over `spanMs`. */
export function fineSmokeBucketMs(spanMs: number): number {
  return SMOKE_BUCKETS_MS.find((w) => spanMs / w <= MAX_SMOKE_BUCKETS) ?? SMOKE_BUCKETS_MS[SMOKE_BUCKETS_MS.length - 1]!;
}

/**
 * The narrowest width from the fine one up that gives a typical featured client MIN_BUCKET_RESULTS
 * results per bucket; failing that, the widest that still leaves MIN_SMOKE_BUCKETS buckets.
 */
export function chooseSmokeBucketMs(spanMs: number, resultsPerMs: number): number {
  const fits = SMOKE_BUCKETS_MS.filter((w) => w >= fineSmokeBucketMs(spanMs));
  const enough = fits.filter((w) => spanMs / w >= MIN_SMOKE_BUCKETS);
  return enough.find((w) => w * resultsPerMs >= MIN_BUCKET_RESULTS) ?? enough[enough.length - 1] ?? fits[0]!;
}

/** Starts the pooled collection for a window of results from `firstMs` to `lastMs`. */
export function pooledCollector(timeZone: string, firstMs: number, lastMs: number): PooledCollector {
  return new PooledCollector(new LocalClock(offsetSpans(timeZone, firstMs, lastMs)), fineSmokeBucketMs(lastMs - firstMs));
}

export interface FinishOptions {
  filter: ResultFilter;
  featured: Featured;
  othersLabel: string;
  onClient?: (done: number) => void;
}

/** Reads the featured clients and assembles the chart data (`pooled` is consumed). */
export async function finishReportData(
  store: AnalysisSource,
  summary: AnalysisSummary,
  pooled: PooledCollector,
  o: FinishOptions,
): Promise<ReportData> {
  const first = summary.window.firstResult === null ? 0 : Date.parse(summary.window.firstResult);
  const last = summary.window.lastResult === null ? 0 : Date.parse(summary.window.lastResult);
  const spanMs = last - first;
  const featuredDownloads = summary.clients.filter((c) => o.featured.clients.includes(c.client)).map((c) => c.downloads.total);
  const typical = percentileSorted(Float64Array.from(featuredDownloads).sort(), 0.5) ?? 0;
  const smokeBucketMs = chooseSmokeBucketMs(spanMs, spanMs > 0 ? typical / spanMs : 0);
  const minCell = summary.thresholds.minClientHourSamples;
  const weekdayHour = pooled.cells.map((h) => ({ relative: h.count >= minCell ? h.quantile(0.5) : null, results: h.count }));
  if (summary.totals.downloads === 0 || o.featured.clients.length === 0) return { smokeBucketMs, latency: [], smoke: [], weekdayHour };

  const latency = new Map<string, LatencyDistribution>();
  const smoke = new Map<string, SmokeSeries>();
  let done = 0;
  for await (const m of store.clientMeasurements({ ...o.filter, clients: o.featured.clients })) {
    const group = { label: m.client, others: false, clients: 1 };
    const download = successfulSorted(m, m.downloadMs);
    const response = successfulSorted(m, m.responseMs);
    latency.set(m.client, { ...group, downloadMs: cdfOfSorted(download), responseMs: cdfOfSorted(response), samples: download.length });
    smoke.set(m.client, { ...group, points: clientSmoke(m, pooled.clock, smokeBucketMs) });
    pooled.removeClient(m);
    o.onClient?.(++done);
  }
  const ordered = <T>(map: Map<string, T>) => o.featured.clients.flatMap((c) => (map.has(c) ? [map.get(c)!] : []));
  const latencies = ordered(latency);
  const smokes = ordered(smoke);
  if (o.featured.others.length > 0 && pooled.download.count + pooled.response.count > 0) {
    const group = { label: o.othersLabel, others: true, clients: o.featured.others.length };
    latencies.push({ ...group, downloadMs: pooled.download.cdf(), responseMs: pooled.response.cdf(), samples: pooled.download.count });
    smokes.push({ ...group, points: pooledSmoke(pooled, smokeBucketMs) });
  }
  return { smokeBucketMs, latency: latencies, smoke: smokes, weekdayHour };
}

/** Smoke buckets of one client: its columns are ordered by start time, so one bucket at a time. */
function clientSmoke(m: ClientMeasurements, clock: LocalClock, bucketMs: number): SmokeBucket[] {
  const points: SmokeBucket[] = [];
  const n = m.startedAtMs.length;
  let i = 0;
  while (i < n) {
    const bucket = Math.floor(localWallMs(clock, m.startedAtMs[i]!) / bucketMs);
    const values: number[] = [];
    let failed = 0;
    let j = i;
    for (; j < n && Math.floor(localWallMs(clock, m.startedAtMs[j]!) / bucketMs) === bucket; j++) {
      if (m.failed[j] === 1) failed++;
      else if (Number.isFinite(m.downloadMs[j]!)) values.push(m.downloadMs[j]!);
    }
    const sorted = Float64Array.from(values).sort();
    points.push({ start: bucket * bucketMs, downloads: j - i, failed, q: sorted.length > 0 ? quantiles(sorted, SMOKE_QUANTILES) : null });
    i = j;
  }
  return points;
}

/** The pooled fine buckets merged into `bucketMs` (a multiple of the fine width). */
function pooledSmoke(pooled: PooledCollector, bucketMs: number): SmokeBucket[] {
  const merged = new Map<number, { hist: LogHistogram; downloads: number; failed: number }>();
  const factor = Math.round(bucketMs / pooled.fineBucketMs);
  for (const [fine, b] of pooled.buckets) {
    if (b.downloads === 0) continue;
    const index = Math.floor(fine / factor);
    let m = merged.get(index);
    if (!m) merged.set(index, (m = { hist: new LogHistogram(), downloads: 0, failed: 0 }));
    m.hist.merge(b.hist);
    m.downloads += b.downloads;
    m.failed += b.failed;
  }
  return [...merged.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, b]) => ({
      start: index * bucketMs,
      downloads: b.downloads,
      failed: b.failed,
      q: b.hist.count > 0 ? SMOKE_QUANTILES.map((p) => b.hist.quantile(p)) : null,
    }));
}
