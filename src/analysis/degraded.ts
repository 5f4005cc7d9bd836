/**
 * The "degraded" test, the one rule behind episodes, client status and every congestion mark: a
 * result is degraded when it failed, when its throughput is below degradedThroughputFraction × the
 * throughput baseline, or when its download time is above degradedLatencyFactor × the latency
 * baseline. Pure and import-free (types only): the dashboard's browser bundle calls it too.
 */
import type { Thresholds } from './thresholds.js';

export interface DegradedLimits {
  /** Throughput below this is degraded (Mbit/s). */
  belowMbps: number;
  /** Download time above this is degraded (ms); Infinity without a latency baseline. */
  aboveMs: number;
}

export type DegradedThresholds = Pick<Thresholds, 'degradedThroughputFraction' | 'degradedLatencyFactor'>;

export function degradedLimits(base: { throughputMbps: number; latencyMs: number | null }, t: DegradedThresholds): DegradedLimits {
  return {
    belowMbps: t.degradedThroughputFraction * base.throughputMbps,
    aboveMs: base.latencyMs === null ? Infinity : t.degradedLatencyFactor * base.latencyMs,
  };
}

/** `throughputMbps` and `downloadMs` may be NaN (absent): an absent value is not evidence. */
export function isDegraded(failed: boolean, throughputMbps: number, downloadMs: number, limits: DegradedLimits): boolean {
  return failed || throughputMbps < limits.belowMbps || downloadMs > limits.aboveMs;
}
