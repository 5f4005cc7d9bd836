/**
 * Schedule health of one client: its expected interval (the median spacing of its results), gaps
 * (spacings longer than gapFactor × that), the results the gaps swallowed, and silence up to the
 * window end. A silent client is a finding, not an absence. Pure.
 */
import type { Thresholds } from './thresholds.js';
import type { Schedule } from './types.js';
import { median } from './stats.js';

/** The JSON's `schedule` (types.ts), before rounding. */
export type ScheduleFacts = Schedule;

/** `startedAtMs` ascending; `windowEndMs` is --until, else the last result of the analysis. */
export function analyseSchedule(startedAtMs: Float64Array, windowEndMs: number, t: Thresholds): ScheduleFacts {
  const n = startedAtMs.length;
  const last = startedAtMs[n - 1] ?? windowEndMs;
  const silentForMs = Math.max(0, windowEndMs - last);
  const spacings = new Float64Array(Math.max(0, n - 1));
  for (let i = 1; i < n; i++) spacings[i - 1] = startedAtMs[i]! - startedAtMs[i - 1]!;
  const interval = spacings.length >= t.minIntervalSamples ? median(Float64Array.from(spacings).sort()) : null;
  if (interval === null || interval <= 0) {
    return { expectedIntervalMs: null, gaps: 0, longestGapMs: null, missedEstimate: 0, silent: false, silentForMs };
  }
  const limit = t.gapFactor * interval;
  let gaps = 0;
  let longest: number | null = null;
  let missed = 0;
  for (const spacing of spacings) {
    if (spacing <= limit) continue;
    gaps++;
    longest = Math.max(longest ?? 0, spacing);
    missed += Math.max(0, Math.round(spacing / interval) - 1);
  }
  return { expectedIntervalMs: interval, gaps, longestGapMs: longest, missedEstimate: missed, silent: silentForMs > limit, silentForMs };
}

/** True when the spacing between two consecutive results is a gap. */
export function isGap(spacingMs: number, expectedIntervalMs: number | null, t: Thresholds): boolean {
  return expectedIntervalMs !== null && spacingMs > t.gapFactor * expectedIntervalMs;
}
