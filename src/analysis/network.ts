/**
 * Network-wide episodes: times when at least networkShare of the clients active then (and at least
 * minNetworkClients) are in an episode together. Many clients degrading at once points at the
 * server or a shared link, not one client's access line. A client is active from its first to its
 * last result, when it has a baseline (a client that cannot be judged does not dilute the share).
 * Pure: a sweep over interval end points.
 */
import type { RawEpisode } from './episodes.js';
import type { Thresholds } from './options.js';
import { median } from './stats.js';

export interface ActiveSpan {
  client: string;
  fromMs: number;
  toMs: number;
}

export interface RawNetworkEpisode {
  startMs: number;
  endMs: number;
  clients: string[];
  peakClients: number;
  peakShare: number;
  severity: number;
}

interface Interval {
  startMs: number;
  endMs: number;
}

/** Distinct boundary times, and for each elementary segment [T[k], T[k+1]) how many intervals cover it. */
function coverage(times: number[], intervals: readonly Interval[]): Int32Array {
  const starts = intervals.map((i) => i.startMs).sort((a, b) => a - b);
  const ends = intervals.map((i) => i.endMs).sort((a, b) => a - b);
  const counts = new Int32Array(times.length);
  let s = 0;
  let e = 0;
  times.forEach((t, k) => {
    while (s < starts.length && starts[s]! <= t) s++;
    while (e < ends.length && ends[e]! <= t) e++;
    counts[k] = s - e;
  });
  return counts;
}

export const overlaps = (a: Interval, b: Interval): boolean => a.startMs < b.endMs && a.endMs > b.startMs;

function countAbove(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return sorted.length - lo;
}

/**
 * How many of the spans touch [startMs, endMs] (fromMs ≤ endMs and toMs ≥ startMs), in O(log n) a
 * query: every span not touching it either starts after endMs or ends before startMs, never both.
 */
export function activeCounter(active: readonly ActiveSpan[]): (startMs: number, endMs: number) => number {
  const froms = Float64Array.from(active, (a) => a.fromMs).sort();
  const negTos = Float64Array.from(active, (a) => -a.toMs).sort();
  return (startMs, endMs) => active.length - countAbove(froms, endMs) - countAbove(negTos, -startMs);
}

export function networkEpisodes(episodes: readonly RawEpisode[], active: readonly ActiveSpan[], t: Thresholds): RawNetworkEpisode[] {
  const spans = active.map((a) => ({ startMs: a.fromMs, endMs: a.toMs }));
  const times = [...new Set([...episodes.flatMap((e) => [e.startMs, e.endMs]), ...spans.flatMap((s) => [s.startMs, s.endMs])])].sort(
    (a, b) => a - b,
  );
  const degraded = coverage(times, episodes);
  const running = coverage(times, spans);
  const found: RawNetworkEpisode[] = [];
  let open: { startMs: number; endMs: number; peakClients: number; peakShare: number } | null = null;
  const close = (): void => {
    if (open && open.endMs - open.startMs >= t.minNetworkEpisodeMs) {
      const involved = episodes.filter((e) => overlaps(e, open!));
      found.push({
        startMs: open.startMs,
        endMs: open.endMs,
        clients: [...new Set(involved.map((e) => e.client))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        peakClients: open.peakClients,
        peakShare: open.peakShare,
        severity: median(Float64Array.from(involved, (e) => e.severity).sort()) ?? 0,
      });
    }
    open = null;
  };
  for (let k = 0; k + 1 < times.length; k++) {
    const share = running[k]! > 0 ? degraded[k]! / running[k]! : 0;
    const qualifies = degraded[k]! >= t.minNetworkClients && share >= t.networkShare;
    if (!qualifies) {
      close();
      continue;
    }
    if (!open) open = { startMs: times[k]!, endMs: times[k + 1]!, peakClients: 0, peakShare: 0 };
    open.endMs = times[k + 1]!;
    open.peakClients = Math.max(open.peakClients, degraded[k]!);
    open.peakShare = Math.max(open.peakShare, share);
  }
  close();
  return found;
}
