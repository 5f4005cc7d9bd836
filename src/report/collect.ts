/**
 * The first of the report's two reads of per-result data: what every client contributes to the
 * charts, gathered while the analysis reads the store (analyse()'s `onClient` hook hands each
 * client's columns and analysis to the collector, so the store is read once, not twice).
 *
 * Per client it adds, with memory independent of the number of results:
 * - its download and response times to pooled log histograms (the "others" latency CDF);
 * - its results to pooled per-bucket histograms of download time, at the finest smoke bucket width
 *   (the "others" smoke, merged to the final width later);
 * - throughput ÷ its baseline to the weekday × hour cells. The baseline is the analysis's own
 *   (src/analysis/baseline.ts), handed over with the client.
 */
import type { LocalClock } from '../analysis/timezone.js';
import type { ClientMeasurements } from '../store/analysis-types.js';
import { LinearHistogram, LogHistogram } from './sketch.js';

/** Relative throughput is binned from 0 to 4× the baseline at 0.1 % steps (above 4× counts as 4×). */
const RELATIVE_MAX = 4;
const RELATIVE_BINS = 4000;

export interface PooledBucket {
  hist: LogHistogram;
  downloads: number;
  failed: number;
}

/** The local wall-clock time of instant `t`, as a UTC timestamp (what the charts plot with useUTC). */
export function localWallMs(clock: LocalClock, t: number): number {
  return t + clock.offset(t);
}

export function successfulSorted(m: ClientMeasurements, column: Float64Array): Float64Array {
  const out = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i++) if (m.failed[i] === 0 && Number.isFinite(column[i]!)) out[n++] = column[i]!;
  return out.subarray(0, n).sort();
}

export class PooledCollector {
  readonly download = new LogHistogram();
  readonly response = new LogHistogram();
  /** Finest smoke bucket index (local wall time ÷ fineBucketMs) → pooled download times. */
  readonly buckets = new Map<number, PooledBucket>();
  readonly cells = Array.from({ length: 168 }, () => new LinearHistogram(RELATIVE_MAX, RELATIVE_BINS));
  /** Clients seen, and their baselines (null: none). */
  readonly baselines = new Map<string, number | null>();

  constructor(
    readonly clock: LocalClock,
    readonly fineBucketMs: number,
  ) {}

  /** `baseline`: the analysis's throughput baseline of the client (null: it has none). */
  addClient(m: ClientMeasurements, baseline: number | null): void {
    if (this.baselines.has(m.client)) return;
    this.download.addAll(successfulOnly(m, m.downloadMs));
    this.response.addAll(successfulOnly(m, m.responseMs));
    this.eachBucket(m, (b, i) => {
      b.downloads++;
      if (m.failed[i] === 1) b.failed++;
      else b.hist.add(m.downloadMs[i]!);
    });
    this.baselines.set(m.client, baseline);
    if (baseline === null) return;
    for (let i = 0; i < m.startedAtMs.length; i++) {
      const mbps = m.throughputMbps[i]!;
      if (m.failed[i] === 1 || !Number.isFinite(mbps)) continue;
      const at = m.startedAtMs[i]!;
      this.cells[(this.clock.weekday(at) - 1) * 24 + this.clock.hour(at)]!.add(mbps / baseline);
    }
  }

  /** Takes a featured client's results back out of the pooled histograms (what remains is "others"). */
  removeClient(m: ClientMeasurements): void {
    this.download.removeAll(successfulOnly(m, m.downloadMs));
    this.response.removeAll(successfulOnly(m, m.responseMs));
    this.eachBucket(m, (b, i) => {
      b.downloads--;
      if (m.failed[i] === 1) b.failed--;
      else b.hist.remove(m.downloadMs[i]!);
    });
  }

  private eachBucket(m: ClientMeasurements, f: (b: PooledBucket, i: number) => void): void {
    for (let i = 0; i < m.startedAtMs.length; i++) {
      const index = Math.floor(localWallMs(this.clock, m.startedAtMs[i]!) / this.fineBucketMs);
      let b = this.buckets.get(index);
      if (!b) this.buckets.set(index, (b = { hist: new LogHistogram(), downloads: 0, failed: 0 }));
      f(b, i);
    }
  }
}

function successfulOnly(m: ClientMeasurements, column: Float64Array): Float64Array {
  const out = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i++) if (m.failed[i] === 0 && Number.isFinite(column[i]!)) out[n++] = column[i]!;
  return out.subarray(0, n);
}
