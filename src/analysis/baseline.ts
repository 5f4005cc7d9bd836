/**
 * A series' baselines, what "degraded" is measured against: the throughput baseline is
 * p`baselinePercentile` of its successful throughputs, the latency baseline p`latencyBaselinePercentile`
 * of its download times; each needs `minBaselineSamples` values (docs/analysis.md). Pure.
 */
import { type Samples, successful } from './samples.js';
import { percentileSelect, percentileSorted } from './stats.js';
import type { Thresholds } from './thresholds.js';

export interface Baselines {
  /** null: too few successes (or none above 0) to judge the series at all. */
  throughputMbps: number | null;
  /** null when the series has too few download times to judge latency. */
  latencyMs: number | null;
}

type BaselineThresholds = Pick<Thresholds, 'baselinePercentile' | 'latencyBaselinePercentile' | 'minBaselineSamples'>;

/** From the successful throughputs, sorted ascending. */
export function throughputBaseline(sortedRates: ArrayLike<number>, t: BaselineThresholds): number | null {
  const rate = sortedRates.length >= t.minBaselineSamples ? percentileSorted(sortedRates, t.baselinePercentile) : null;
  return rate !== null && rate > 0 ? rate : null;
}

/** From the successful download times in any order (reordered in place). */
export function latencyBaseline(latencies: Float64Array, t: BaselineThresholds): number | null {
  return latencies.length >= t.minBaselineSamples ? percentileSelect(latencies, t.latencyBaselinePercentile) : null;
}

export interface BaselineColumns {
  /** Successful throughputs, ascending. */
  rates: Float64Array;
  /** Successful download times (selection order, not sorted). */
  latencies: Float64Array;
}

/** The columns baselines are taken from, for callers that also need them for statistics. */
export function baselineColumns(s: Samples): BaselineColumns {
  return { rates: successful(s, s.throughputMbps).sort(), latencies: successful(s, s.downloadMs) };
}

export function baselines(columns: BaselineColumns, t: BaselineThresholds): Baselines {
  return { throughputMbps: throughputBaseline(columns.rates, t), latencyMs: latencyBaseline(columns.latencies, t) };
}
