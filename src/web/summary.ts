/**
 * Builds the dashboard summary (client table, episodes, alerts, busiest and most congested hour)
 * from the results in the window, by the analyser's rules (congestion.ts). Pure: the caller passes
 * the time.
 */
import { isDegraded } from '../analysis/degraded.js';
import { DEFAULT_THRESHOLDS } from '../analysis/options.js';
import type { Thresholds } from '../analysis/thresholds.js';
import {
  type Alert,
  type AlertKind,
  type ClientRow,
  type ClientStatus,
  type LastResult,
  type Point,
  RECENT_MS,
  type Summary,
  type Direction,
} from './api-types.js';
import { episodesOf, judgeLive, limitsOf, median, rates, recentRatio } from './congestion.js';

/** What is kept of a client even after its results left the window. */
export type ClientMeta = LastResult;

export interface SummaryOptions {
  /** Hours of day (busiest, most congested) are local to this IANA zone (default UTC). */
  timeZone?: string;
  thresholds?: Thresholds;
  /** The direction of `points` (default download); the summary names it. */
  direction?: Direction;
}

/** A client is silent after this many of its usual intervals without a result… */
const SILENT_INTERVALS = 3;
/** …but never sooner than this. */
const MIN_SILENT_MS = 5 * 60_000;
/** When its interval is unknown (fewer than two results in the window). */
const DEFAULT_SILENT_MS = 30 * 60_000;

/** How long without a result before `points` (one client's, in time order) counts as silent. */
export function silentAfterMs(points: readonly Point[]): number {
  if (points.length < 2) return DEFAULT_SILENT_MS;
  const gaps: number[] = [];
  for (let i = 1; i < points.length; i++) gaps.push(points[i]!.t - points[i - 1]!.t);
  return Math.max(MIN_SILENT_MS, SILENT_INTERVALS * median(gaps)!);
}

const STATUS_ORDER: Record<ClientStatus, number> = { silent: 0, failing: 1, congested: 2, ok: 3 };
const ALERT_ORDER: Record<AlertKind, number> = { 'network-congestion': 0, silent: 1, failing: 2, congestion: 3 };

function minutes(ms: number): string {
  const m = Math.max(1, Math.round(ms / 60_000));
  return m < 120 ? `${m} min` : `${(m / 60).toFixed(1)} h`;
}

const mbps = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
const percent = (x: number): string => `${Math.round(x * 100)}%`;

/**
 * `points`: the window's results, oldest first; the window is [nowMs − windowMs, nowMs], or from
 * `fromMs` when older results had to be dropped (the summary says which).
 */
export function buildSummary(
  points: readonly Point[],
  metas: ReadonlyMap<string, ClientMeta>,
  nowMs: number,
  windowMs: number,
  options: SummaryOptions & { fromMs?: number } = {},
): Summary {
  const t = options.thresholds ?? DEFAULT_THRESHOLDS;
  const window = { fromMs: options.fromMs ?? nowMs - windowMs, toMs: nowMs, timeZone: options.timeZone ?? 'UTC' };
  const byClient = new Map<string, Point[]>();
  for (const p of points) {
    let list = byClient.get(p.client);
    if (!list) byClient.set(p.client, (list = []));
    list.push(p);
  }
  const live = judgeLive(byClient, window, t);
  const episodes = episodesOf(live, t);
  const clients: ClientRow[] = [];
  const alerts: Alert[] = [];
  for (const [client, meta] of metas) {
    const own = byClient.get(client) ?? [];
    const verdict = live.clients.get(client);
    const limits = limitsOf(verdict, t);
    const baselineMbps = verdict?.baselines.throughputMbps ?? null;
    const mine = episodes.filter((e) => e.client === client);
    const silentMs = silentAfterMs(own);
    let status: ClientStatus = 'ok';
    // Silence is judged by the last measurement, not the last delivery: an outbox replay of old results is still silence.
    if (nowMs - meta.lastStartedMs > silentMs) {
      status = 'silent';
      alerts.push({
        kind: 'silent',
        severity: 'warning',
        client,
        sinceMs: meta.lastStartedMs,
        message: `${client}: no measurement for ${minutes(nowMs - meta.lastStartedMs)} (silent after ${minutes(silentMs)})`,
      });
    } else if (meta.lastError !== null) {
      status = 'failing';
      alerts.push({
        kind: 'failing',
        severity: 'warning',
        client,
        sinceMs: meta.lastStartedMs,
        message: `${client}: last measurement failed (${meta.lastError})`,
      });
    } else if (
      limits &&
      baselineMbps !== null &&
      meta.lastError === null &&
      isDegraded(false, meta.lastMbps ?? NaN, meta.lastDownloadMs ?? NaN, limits)
    ) {
      // The latest result fails the analyser's degraded test; an episode needs more of them in a row.
      status = 'congested';
      const ongoing = mine.find((e) => e.ongoing);
      const slow = meta.lastMbps !== null && meta.lastMbps < limits.belowMbps;
      alerts.push({
        kind: 'congestion',
        severity: 'warning',
        client,
        sinceMs: ongoing?.fromMs ?? meta.lastStartedMs,
        message: slow
          ? `${client}: ${mbps(meta.lastMbps!)} Mbit/s, ${percent(meta.lastMbps! / baselineMbps)} of its baseline ${mbps(baselineMbps)} Mbit/s`
          : `${client}: download took ${Math.round(meta.lastDownloadMs!)} ms, over ${t.degradedLatencyFactor}× its usual ${Math.round(verdict!.baselines.latencyMs!)} ms`,
      });
    }
    clients.push({
      client,
      ...meta,
      medianMbps: median(rates(own)),
      baselineMbps,
      latencyBaselineMs: verdict?.baselines.latencyMs ?? null,
      results: own.length,
      failures: own.filter((p) => p.error !== null).length,
      episodes: mine.length,
      status,
    });
  }
  const ongoingNetwork = episodes.find((e) => e.client === null && e.ongoing);
  if (ongoingNetwork) {
    const congested = clients.filter((c) => c.status === 'congested').length;
    alerts.push({
      kind: 'network-congestion',
      severity: 'critical',
      client: null,
      sinceMs: ongoingNetwork.fromMs,
      message:
        congested >= 2
          ? `network-wide congestion: ${congested} of ${clients.length} clients degraded (below ${percent(t.degradedThroughputFraction)} of their baseline throughput, or slow)`
          : `network-wide congestion: ${ongoingNetwork.clients.length} clients in an episode together`,
    });
  }
  alerts.sort((a, b) => ALERT_ORDER[a.kind] - ALERT_ORDER[b.kind] || (a.client ?? '').localeCompare(b.client ?? ''));
  const networkMedianMbps = median(rates(points));
  clients.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.client.localeCompare(b.client));
  return {
    direction: options.direction ?? 'download',
    atMs: nowMs,
    windowMs,
    window,
    thresholds: t,
    clients,
    episodes,
    alerts,
    busiestHour: live.whole.busiestHour,
    mostCongestedHour: live.whole.mostCongestedHour,
    networkMedianMbps,
    recentRatio: recentRatio(points, live, nowMs - RECENT_MS),
  };
}
