/**
 * Responsiveness under working conditions (draft-ietf-ippm-responsiveness): round trips per minute,
 * RPM = 60,000 / TM(RTTs in ms), where TM is the draft's trimmed mean: the probes above the 95th
 * percentile are dropped and the rest averaged (one slow outlier must not decide the figure, a
 * queue that is always full must). Pure.
 */

/** Share of the probes kept, from the fastest: the draft trims those above the 95th percentile. */
export const RPM_KEPT_SHARE = 0.95;

/** Mean of the fastest ceil(95 %) of `rttsMs`, or null without probes. */
export function trimmedMeanMs(rttsMs: readonly number[]): number | null {
  if (rttsMs.length === 0) return null;
  const sorted = [...rttsMs].sort((a, b) => a - b);
  const kept = sorted.slice(0, Math.max(1, Math.ceil(sorted.length * RPM_KEPT_SHARE)));
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

/** RPM of the probes (rounded to a whole round trip per minute), or null without probes. */
export function responsivenessRpm(rttsMs: readonly number[]): number | null {
  const mean = trimmedMeanMs(rttsMs);
  if (mean === null) return null;
  // A probe faster than 1 µs is a clock artefact; cap the figure rather than divide by ~0.
  return Math.round(60_000 / Math.max(mean, 0.001));
}
