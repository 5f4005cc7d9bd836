/**
 * Congestion episodes of one series (a client's results). A result is degraded by the test in
 * degraded.ts; an episode is a run of consecutive degraded results (a gap in the schedule ends a
 * run) spanning at least minEpisodeMs and minEpisodeMeasurements. Pure.
 */
import { type DegradedLimits, degradedLimits, isDegraded } from './degraded.js';
import { isGap } from './gaps.js';
import type { Samples } from './samples.js';
import { median } from './stats.js';
import type { Thresholds } from './thresholds.js';

/** A series' baselines when it has a throughput baseline (baseline.ts), the only case it is judged in. */
export interface Baselines {
  throughputMbps: number;
  /** null when the series has too few download times to judge latency. */
  latencyMs: number | null;
}

export interface RawEpisode {
  client: string;
  startMs: number;
  endMs: number;
  measurements: number;
  lowThroughput: number;
  highLatency: number;
  failed: number;
  severity: number;
  baselineMbps: number;
  medianThroughputMbps: number | null;
  maxLatencyMs: number | null;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

export function clientEpisodes(m: Samples, base: Baselines, intervalMs: number | null, t: Thresholds): RawEpisode[] {
  const episodes: RawEpisode[] = [];
  const limits = degradedLimits(base, t);
  let run: number[] = [];
  const close = (): void => {
    if (run.length > 0) {
      const episode = summarise(m, run, base, limits);
      if (episode.measurements >= t.minEpisodeMeasurements && episode.endMs - episode.startMs >= t.minEpisodeMs) episodes.push(episode);
    }
    run = [];
  };
  for (let i = 0; i < m.startedAtMs.length; i++) {
    if (i > 0 && isGap(m.startedAtMs[i]! - m.startedAtMs[i - 1]!, intervalMs, t)) close();
    if (isDegraded(m.failed[i] === 1, m.throughputMbps[i]!, m.downloadMs[i]!, limits)) run.push(i);
    else close();
  }
  close();
  return episodes;
}

function summarise(m: Samples, run: number[], base: Baselines, limits: DegradedLimits): RawEpisode {
  const scores = new Float64Array(run.length);
  const rates: number[] = [];
  let lowThroughput = 0;
  let highLatency = 0;
  let failed = 0;
  let maxLatency: number | null = null;
  run.forEach((i, k) => {
    if (m.failed[i] === 1) {
      failed++;
      scores[k] = 1;
      return;
    }
    const tp = m.throughputMbps[i]!;
    const dl = m.downloadMs[i]!;
    if (tp < limits.belowMbps) lowThroughput++;
    if (dl > limits.aboveMs) highLatency++;
    if (!Number.isNaN(tp)) rates.push(tp);
    if (!Number.isNaN(dl)) maxLatency = Math.max(maxLatency ?? 0, dl);
    const short = Number.isNaN(tp) ? 0 : clamp01(1 - tp / base.throughputMbps);
    const slow = base.latencyMs === null || Number.isNaN(dl) || dl <= 0 ? 0 : clamp01(1 - base.latencyMs / dl);
    scores[k] = Math.max(short, slow);
  });
  return {
    client: m.client,
    startMs: m.startedAtMs[run[0]!]!,
    endMs: m.startedAtMs[run[run.length - 1]!]!,
    measurements: run.length,
    lowThroughput,
    highLatency,
    failed,
    severity: median(scores.sort()) ?? 0,
    baselineMbps: base.throughputMbps,
    medianThroughputMbps: median(Float64Array.from(rates).sort()),
    maxLatencyMs: maxLatency,
  };
}
