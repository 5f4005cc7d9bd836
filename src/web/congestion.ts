/**
 * The dashboard's congestion view: the analyser's rules (src/analysis/verdict.ts) applied to the
 * live window's results in memory. Nothing here decides what "congested" means; it turns points
 * into the rules' columns and their verdict into API shapes. Pure: the caller passes the time.
 */
import { type DegradedLimits, degradedLimits } from '../analysis/degraded.js';
import { errorClass } from '../analysis/error-class.js';
import { hourCounts } from '../analysis/hours.js';
import type { Samples } from '../analysis/samples.js';
import { median as medianSorted } from '../analysis/stats.js';
import type { Thresholds } from '../analysis/thresholds.js';
import { LocalClock, offsetSpans } from '../analysis/timezone.js';
import { type ClientVerdict, judgeClient, judgeWindow, type WindowVerdict } from '../analysis/verdict.js';
import type { Episode, Point, SummaryWindow } from './api-types.js';

export function median(values: readonly number[]): number | null {
  return medianSorted(Float64Array.from(values).sort());
}

/** Throughputs of the successful results among `points`. */
export function rates(points: readonly Point[]): number[] {
  const out: number[] = [];
  for (const p of points) if (p.error === null && p.mbps !== null) out.push(p.mbps);
  return out;
}

const nan = (v: number | null): number => (v === null ? NaN : v);
/** NaN first, as the stores order a client's columns (src/store/analysis-types.ts). */
const ascending = (a: number, b: number): number => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b);

/** One client's points as the rules' columns, in the stores' order (start, failed, throughput, download time, response time). */
export function toSamples(client: string, points: readonly Point[]): Samples {
  // As the analyser: setup and server failures are not network data (analysis/error-class.ts).
  const rows = points
    .filter((p) => p.error === null || errorClass(p.error) === 'network')
    .map((p) => ({ t: p.t, failed: p.error === null ? 0 : 1, mbps: nan(p.mbps), dl: nan(p.downloadMs), rt: nan(p.responseMs) }));
  rows.sort((a, b) => a.t - b.t || a.failed - b.failed || ascending(a.mbps, b.mbps) || ascending(a.dl, b.dl) || ascending(a.rt, b.rt));
  return {
    client,
    startedAtMs: Float64Array.from(rows, (r) => r.t),
    throughputMbps: Float64Array.from(rows, (r) => r.mbps),
    downloadMs: Float64Array.from(rows, (r) => r.dl),
    failed: Uint8Array.from(rows, (r) => r.failed),
  };
}

export interface LiveVerdict {
  window: SummaryWindow;
  /** By client; only clients with a result in the window. */
  clients: Map<string, ClientVerdict>;
  whole: WindowVerdict;
}

/** The rules' verdict on `byClient` (each client's points in the window), hours in `window.timeZone`. */
export function judgeLive(byClient: ReadonlyMap<string, readonly Point[]>, window: SummaryWindow, t: Thresholds): LiveVerdict {
  const clock = new LocalClock(offsetSpans(window.timeZone, window.fromMs, window.toMs));
  const samples = [...byClient].filter(([, points]) => points.length > 0).map(([client, points]) => toSamples(client, points));
  const clients = new Map(samples.map((s) => [s.client, judgeClient(s, { thresholds: t, clock, windowEndMs: window.toMs })]));
  return { window, clients, whole: judgeWindow([...clients.values()], hourCounts(samples, clock), t) };
}

/** The client's degraded limits, when it has a baseline to be judged by. */
export function limitsOf(v: ClientVerdict | undefined, t: Thresholds): DegradedLimits | null {
  const base = v?.baselines;
  return base && base.throughputMbps !== null
    ? degradedLimits({ throughputMbps: base.throughputMbps, latencyMs: base.latencyMs }, t)
    : null;
}

/** The verdict's episodes as API episodes: network-wide first, then by start and client. */
export function episodesOf(live: LiveVerdict, t: Thresholds): Episode[] {
  const lastOf = (client: string): number => {
    const s = live.clients.get(client)?.active;
    return s ? s.toMs : -Infinity;
  };
  const clientEpisodes: Episode[] = live.whole.episodes.map((e) => ({
    client: e.client,
    fromMs: e.startMs,
    toMs: e.endMs,
    results: e.measurements,
    severity: e.severity,
    clients: [e.client],
    ongoing: e.endMs === lastOf(e.client),
  }));
  const network: Episode[] = live.whole.network.map((n) => {
    const inside = clientEpisodes.filter((e) => e.fromMs < n.endMs && e.toMs > n.startMs);
    return {
      client: null,
      fromMs: n.startMs,
      toMs: n.endMs,
      results: inside.reduce((sum, e) => sum + e.results, 0),
      severity: n.severity,
      clients: n.clients,
      ongoing: new Set(inside.filter((e) => e.ongoing).map((e) => e.client)).size >= t.minNetworkClients,
    };
  });
  return [...network, ...clientEpisodes];
}

/** Median of the successful results since `sinceMs` over their client's throughput baseline (1 = at baseline). */
export function recentRatio(points: readonly Point[], live: LiveVerdict, sinceMs: number): number | null {
  const ratios: number[] = [];
  for (const p of points) {
    const base = live.clients.get(p.client)?.baselines.throughputMbps ?? null;
    if (p.t >= sinceMs && p.error === null && p.mbps !== null && base !== null) ratios.push(p.mbps / base);
  }
  return median(ratios);
}
