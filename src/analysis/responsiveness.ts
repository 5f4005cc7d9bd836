/**
 * Responsiveness under working conditions, the one rule (draft-ietf-ippm-responsiveness-08,
 * "Aggregating the Measurements"): the client computes each result's figures with it, the analyser
 * and the report aggregate results with it. Pure; imports nothing.
 *
 * - Trimmed mean TM: the draft's single-sided trimmed mean at the 95th percentile (TMP = 95 %):
 *   the probes above the 95th percentile are dropped and the rest averaged. With the nearest-rank
 *   95th percentile that keeps the fastest ⌈0.95·n⌉ probes (20 probes: 19; 10 probes: all 10).
 * - Foreign responsiveness: 60,000 ÷ TM(round trips on a separate connection) in ms. The draft's
 *   foreign probe opens a new connection each time and averages TM(tcp_f), TM(tls_f) and
 *   TM(http_f); netprobe's foreign probes are PINGs on one separate connection opened before the
 *   load, so only the request round trip (http_f) is probed under load.
 * - Self (loaded) responsiveness: 60,000 ÷ TM(round trips on the load-generating connections).
 * - Responsiveness = (foreign + self) ÷ 2. A result without self probes (a server without the
 *   `self-ping` capability) has the foreign figure alone; one without foreign probes the self one.
 */

/** TMP: share of the probes kept, from the fastest. */
export const RPM_KEPT_SHARE = 0.95;

/** A probe faster than 1 µs is a clock artefact: the RPM is capped rather than divided by ~0. */
const MIN_ROUND_TRIP_MS = 0.001;

/** TM(rttsMs): mean of the fastest ⌈95 %⌉ of the probes, or null without probes. */
export function trimmedMeanMs(rttsMs: readonly number[]): number | null {
  if (rttsMs.length === 0) return null;
  const sorted = [...rttsMs].sort((a, b) => a - b);
  const kept = sorted.slice(0, Math.ceil(sorted.length * RPM_KEPT_SHARE));
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

/** 60,000 ÷ TM(rttsMs), unrounded; null without probes. */
export function rpmOfProbes(rttsMs: readonly number[]): number | null {
  const mean = trimmedMeanMs(rttsMs);
  return mean === null ? null : 60_000 / Math.max(mean, MIN_ROUND_TRIP_MS);
}

export interface Responsiveness {
  /** The result's RPM, whole round trips per minute: (foreign + self) ÷ 2, or the one measured. */
  rpm: number | null;
  /** 60,000 ÷ TM(foreign probes), whole round trips per minute. */
  foreignRpm: number | null;
  /** 60,000 ÷ TM(self probes), whole round trips per minute. */
  selfRpm: number | null;
  foreignProbes: number;
  selfProbes: number;
}

/** One measurement's responsiveness from its probes' round trips (ms). */
export function responsiveness(foreignRttsMs: readonly number[], selfRttsMs: readonly number[] = []): Responsiveness {
  const foreign = rpmOfProbes(foreignRttsMs);
  const self = rpmOfProbes(selfRttsMs);
  const both = foreign !== null && self !== null ? (foreign + self) / 2 : (foreign ?? self);
  const whole = (x: number | null): number | null => (x === null ? null : Math.round(x));
  return {
    rpm: whole(both),
    foreignRpm: whole(foreign),
    selfRpm: whole(self),
    foreignProbes: foreignRttsMs.length,
    selfProbes: selfRttsMs.length,
  };
}

/**
 * Several results' RPM as one figure: their harmonic mean, 60,000 ÷ the mean of their round trips
 * (60,000 ÷ rpm each), so a minute of slow round trips weighs as much as a minute of fast ones
 * (an arithmetic mean of RPM lets a few idle-fast results hide a full queue). Takes the count of
 * results with rpm > 0 and the sum of their 1 ÷ rpm (what a store can sum); null when there are none.
 */
export function aggregateRpm(results: number, reciprocalSum: number): number | null {
  return results > 0 && reciprocalSum > 0 ? results / reciprocalSum : null;
}

/** What aggregateRpm says, for a reader: the report and `analyse` print it next to the figure. */
export const AGGREGATE_RPM_DEFINITION =
  "harmonic mean of the results' RPM (60,000 ÷ the mean of their round trips, 60,000 ÷ RPM each); a result's RPM is the IETF draft's: 60,000 ÷ the trimmed mean (fastest 95 %) of its probes' round trips in ms, the separate-connection and loaded-connection figures averaged";
