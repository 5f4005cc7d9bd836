/**
 * The dashboard's congestion rule, pure: a successful result below CONGESTED_RATIO of its client's
 * median over the window is congested; consecutive congested results of a client form an episode.
 * The network is congested in a time bucket when at least two clients, and at least half of those
 * that measured in it, were congested there.
 */
import { type BusiestHour, CONGESTED_RATIO, type Episode, type Point } from './api-types.js';

/** A median needs this many successful results before anything is called congested. */
export const MIN_RESULTS_FOR_MEDIAN = 3;
/** The window is cut into this many buckets for the network-wide rule (6 h → 5 min). */
export const NETWORK_BUCKETS = 72;
/** A bucket (or an hour) needs this many results to count. */
const MIN_RESULTS_PER_HOUR = 3;
const HOUR_MS = 3_600_000;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Throughputs of the successful results among `points`. */
export function rates(points: readonly Point[]): number[] {
  const out: number[] = [];
  for (const p of points) if (p.error === null && p.mbps !== null) out.push(p.mbps);
  return out;
}

/** The client's median when it is trustworthy enough to judge congestion by, else null. */
export function referenceMedian(points: readonly Point[]): number | null {
  const values = rates(points);
  return values.length >= MIN_RESULTS_FOR_MEDIAN ? median(values) : null;
}

/** One client's episodes; `points` are that client's results in time order. */
export function clientEpisodes(client: string, points: readonly Point[], medianMbps: number | null): Episode[] {
  if (medianMbps === null || medianMbps <= 0) return [];
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  let lastOk: Point | undefined;
  for (const p of points) {
    if (p.error !== null || p.mbps === null) continue;
    lastOk = p;
    const ratio = p.mbps / medianMbps;
    if (ratio >= CONGESTED_RATIO) {
      current = undefined;
      continue;
    }
    if (!current) {
      current = { client, fromMs: p.t, toMs: p.t, results: 0, worstRatio: ratio, ongoing: false };
      episodes.push(current);
    }
    current.toMs = p.t;
    current.results++;
    current.worstRatio = Math.min(current.worstRatio, ratio);
  }
  const last = episodes.at(-1);
  if (last && lastOk && last.toMs === lastOk.t) last.ongoing = true;
  return episodes;
}

/**
 * Network-wide episodes over [nowMs - windowMs, nowMs]. `byClient` holds each client's results in
 * time order and `medians` its reference median.
 */
export function networkEpisodes(
  byClient: ReadonlyMap<string, readonly Point[]>,
  medians: ReadonlyMap<string, number | null>,
  nowMs: number,
  windowMs: number,
): Episode[] {
  const bucketMs = windowMs / NETWORK_BUCKETS;
  const startMs = nowMs - windowMs;
  const measured = new Array<number>(NETWORK_BUCKETS).fill(0);
  const congested = new Array<number>(NETWORK_BUCKETS).fill(0);
  const worst = new Array<number>(NETWORK_BUCKETS).fill(Infinity);
  for (const [client, points] of byClient) {
    const ref = medians.get(client);
    if (ref === null || ref === undefined || ref <= 0) continue;
    const perBucket = new Map<number, number[]>();
    for (const p of points) {
      if (p.error !== null || p.mbps === null || p.t < startMs) continue;
      const b = Math.min(NETWORK_BUCKETS - 1, Math.floor((p.t - startMs) / bucketMs));
      let list = perBucket.get(b);
      if (!list) perBucket.set(b, (list = []));
      list.push(p.mbps);
    }
    for (const [b, values] of perBucket) {
      const ratio = median(values)! / ref;
      measured[b]!++;
      if (ratio < CONGESTED_RATIO) {
        congested[b]!++;
        worst[b] = Math.min(worst[b]!, ratio);
      }
    }
  }
  const lastMeasured = measured.findLastIndex((n) => n > 0);
  const episodes: Episode[] = [];
  let current: Episode | undefined;
  for (let b = 0; b < NETWORK_BUCKETS; b++) {
    const hit = congested[b]! >= 2 && congested[b]! * 2 >= measured[b]!;
    if (!hit) {
      if (measured[b]! > 0) current = undefined;
      continue;
    }
    const fromMs = startMs + b * bucketMs;
    if (!current) {
      current = { client: null, fromMs, toMs: fromMs + bucketMs, results: 0, worstRatio: worst[b]!, ongoing: false };
      episodes.push(current);
    }
    current.toMs = fromMs + bucketMs;
    current.results += congested[b]!;
    current.worstRatio = Math.min(current.worstRatio, worst[b]!);
    current.ongoing = b === lastMeasured;
  }
  return episodes;
}

/** Each successful result's throughput as a fraction of its client's reference median. */
function ratios(points: readonly Point[], medians: ReadonlyMap<string, number | null>): { p: Point; ratio: number }[] {
  const out: { p: Point; ratio: number }[] = [];
  for (const p of points) {
    const ref = medians.get(p.client);
    if (p.error === null && p.mbps !== null && ref) out.push({ p, ratio: p.mbps / ref });
  }
  return out;
}

/** Median of the results since `sinceMs` relative to their clients' medians (1 = as usual). */
export function recentRatio(points: readonly Point[], medians: ReadonlyMap<string, number | null>, sinceMs: number): number | null {
  return median(ratios(points, medians).filter((r) => r.p.t >= sinceMs).map((r) => r.ratio));
}

/**
 * The busiest clock hour (UTC hour boundaries) in the window: the most downloads (results, failed
 * ones included), as src/analysis names it; a tie goes to the hour whose results were furthest
 * below their clients' medians. `ratio` is the mean of its results' throughput over their client's
 * median (a mean, so a 20-minute dip shows), null when none of its clients has a median yet.
 */
export function busiestHour(points: readonly Point[], medians: ReadonlyMap<string, number | null>): BusiestHour | null {
  const hours = new Map<number, { results: number; ratios: number[]; rates: number[] }>();
  for (const p of points) {
    const h = Math.floor(p.t / HOUR_MS) * HOUR_MS;
    let hour = hours.get(h);
    if (!hour) hours.set(h, (hour = { results: 0, ratios: [], rates: [] }));
    hour.results++;
    if (p.error !== null || p.mbps === null) continue;
    hour.rates.push(p.mbps);
    const ref = medians.get(p.client);
    if (ref) hour.ratios.push(p.mbps / ref);
  }
  let best: BusiestHour | null = null;
  for (const [startMs, hour] of hours) {
    if (hour.results < MIN_RESULTS_PER_HOUR) continue;
    const ratio = hour.ratios.length > 0 ? hour.ratios.reduce((a, b) => a + b, 0) / hour.ratios.length : null;
    const candidate = { startMs, results: hour.results, ratio, medianMbps: median(hour.rates) };
    if (!best || candidate.results > best.results || (candidate.results === best.results && (candidate.ratio ?? 1) < (best.ratio ?? 1))) best = candidate;
  }
  return best;
}
