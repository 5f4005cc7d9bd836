/**
 * Builds the dashboard summary (client table, episodes, alerts, busiest hour) from the results in
 * the window. Pure: the caller passes the time.
 */
import { type Alert, type AlertKind, type ClientRow, type ClientStatus, type Episode, type Point, RECENT_MS, type Summary } from './api-types.js';
import { busiestHour, clientEpisodes, median, networkEpisodes, rates, recentRatio, referenceMedian } from './congestion.js';

/** What is kept of a client even after its results left the window. */
export interface ClientMeta {
  lastSeenMs: number;
  lastStartedMs: number;
  lastMbps: number | null;
  lastResponseMs: number | null;
  lastError: string | null;
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

export function buildSummary(points: readonly Point[], metas: ReadonlyMap<string, ClientMeta>, nowMs: number, windowMs: number): Summary {
  const byClient = new Map<string, Point[]>();
  for (const p of points) {
    let list = byClient.get(p.client);
    if (!list) byClient.set(p.client, (list = []));
    list.push(p);
  }
  const medians = new Map<string, number | null>();
  const episodes: Episode[] = [];
  const clients: ClientRow[] = [];
  const alerts: Alert[] = [];
  for (const [client, meta] of metas) {
    const own = byClient.get(client) ?? [];
    const ref = referenceMedian(own);
    medians.set(client, ref);
    const mine = clientEpisodes(client, own, ref);
    episodes.push(...mine);
    const ongoing = mine.find((e) => e.ongoing);
    const silentMs = silentAfterMs(own);
    let status: ClientStatus = 'ok';
    // Silence is judged by the last measurement, not the last delivery: an outbox replay of old results is still silence.
    if (nowMs - meta.lastStartedMs > silentMs) {
      status = 'silent';
      alerts.push({
        kind: 'silent', severity: 'warning', client, sinceMs: meta.lastStartedMs,
        message: `${client}: no measurement for ${minutes(nowMs - meta.lastStartedMs)} (silent after ${minutes(silentMs)})`,
      });
    } else if (meta.lastError !== null) {
      status = 'failing';
      alerts.push({ kind: 'failing', severity: 'warning', client, sinceMs: meta.lastStartedMs, message: `${client}: last measurement failed (${meta.lastError})` });
    } else if (ongoing && ref !== null && meta.lastMbps !== null) {
      status = 'congested';
      alerts.push({
        kind: 'congestion', severity: 'warning', client, sinceMs: ongoing.fromMs,
        message: `${client}: ${mbps(meta.lastMbps)} Mbit/s, ${Math.round((meta.lastMbps / ref) * 100)}% of its median ${mbps(ref)} Mbit/s`,
      });
    }
    clients.push({
      client,
      ...meta,
      medianMbps: median(rates(own)),
      results: own.length,
      failures: own.filter((p) => p.error !== null).length,
      episodes: mine.length,
      status,
    });
  }
  const network = networkEpisodes(byClient, medians, nowMs, windowMs);
  const ongoingNetwork = network.find((e) => e.ongoing);
  if (ongoingNetwork) {
    const congested = clients.filter((c) => c.status === 'congested').length;
    alerts.push({
      kind: 'network-congestion', severity: 'critical', client: null, sinceMs: ongoingNetwork.fromMs,
      message: congested >= 2
        ? `network-wide congestion: ${congested} of ${clients.length} clients below half their median throughput`
        : 'network-wide congestion: most clients measuring now are below half their median throughput',
    });
  }
  alerts.sort((a, b) => ALERT_ORDER[a.kind] - ALERT_ORDER[b.kind] || (a.client ?? '').localeCompare(b.client ?? ''));
  const networkMedianMbps = median(rates(points));
  clients.sort((a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.client.localeCompare(b.client));
  return {
    atMs: nowMs,
    windowMs,
    clients,
    episodes: [...network, ...episodes],
    alerts,
    busiestHour: busiestHour(points, medians),
    networkMedianMbps,
    recentRatio: recentRatio(points, medians, nowMs - RECENT_MS),
  };
}
