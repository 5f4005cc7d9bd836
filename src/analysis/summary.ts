/**
 * Puts the pieces together into the AnalysisSummary: episodes with their server-load verdicts and
 * likely causes, totals, findings. Pure; every array is sorted so the JSON is deterministic.
 */
import type { LocalTimeProfile, ServerLoad } from '../store/analysis-types.js';
import type { ClientAnalysis } from './client.js';
import type { RawEpisode } from './episodes.js';
import { hourProfile, weekdayHourMatrix } from './hours.js';
import { type RawNetworkEpisode, activeCounter, overlaps } from './network.js';
import { type ResolvedOptions, type Thresholds, compareText } from './options.js';
import { formatDuration, iso, ison, r3, r3n, r4, r4n, ratio } from './round.js';
import { networkSeries, seriesPoints } from './series.js';
import {
  ANALYSIS_SCHEMA,
  type AnalysisSummary,
  type ClientEpisode,
  type Finding,
  type LikelyCause,
  type NetworkEpisode,
  type ServerLoadVerdict,
} from './types.js';
import type { WindowVerdict } from './verdict.js';

export interface SummaryInput {
  options: ResolvedOptions;
  firstMs: number | null;
  lastMs: number | null;
  windowEndMs: number | null;
  bucketMs: number;
  profile: LocalTimeProfile;
  /** The rules' verdict on the window (verdict.ts): hours and episodes. */
  verdict: WindowVerdict;
  /** Sorted by client. */
  clients: ClientAnalysis[];
  /** Sorted by start, then client. */
  episodes: RawEpisode[];
  network: RawNetworkEpisode[];
  /** Server load during each episode and each network episode, in their order. */
  loads: { episodes: ServerLoad[]; network: ServerLoad[] };
  /** Clients asked for or seen before the window that have no result in it. */
  absent: { client: string; lastMs: number | null }[];
  direction: 'download' | 'upload';
  /** Results of the other direction in the same selection (analysed apart). */
  otherDirectionResults: number;
}

export function emptyProfile(): LocalTimeProfile {
  const group = () => ({ downloads: 0, failed: 0, bytes: 0, throughputMbps: [null], downloadMs: [null] });
  return { hours: Array.from({ length: 24 }, group), weekdayHours: Array.from({ length: 168 }, group) };
}

/** The server's load over all analysed results: what an episode's load is compared with. */
function usualLoad(clients: readonly ClientAnalysis[]): ServerLoad {
  const total = (pick: (c: ClientAnalysis) => number) => clients.reduce((sum, c) => sum + pick(c), 0);
  const annotated = total((c) => c.serverLoad.concurrentTransfers.count);
  const outbound = total((c) => c.serverLoad.outboundMbps.count);
  return {
    results: total((c) => c.serverLoad.results),
    annotated,
    meanConcurrentTransfers: annotated > 0 ? total((c) => c.serverLoad.concurrentTransfers.sum) / annotated : null,
    meanOutboundMbps: outbound > 0 ? total((c) => c.serverLoad.outboundMbps.sum) / outbound : null,
  };
}

function verdict(load: ServerLoad | undefined, window: ServerLoad, t: Thresholds): ServerLoadVerdict {
  const during = load?.meanConcurrentTransfers ?? null;
  const usual = window.meanConcurrentTransfers;
  const coincides =
    during === null || usual === null || !load?.annotated
      ? null
      : during >= t.serverLoadFactor * usual && during >= t.minServerConcurrentTransfers;
  return {
    meanConcurrentTransfers: r3n(during),
    meanOutboundMbps: r3n(load?.meanOutboundMbps ?? null),
    windowMeanConcurrentTransfers: r3n(usual),
    coincides,
  };
}

function networkEpisodeOut(e: RawNetworkEpisode, load: ServerLoad | undefined, usual: ServerLoad, input: SummaryInput): NetworkEpisode {
  const serverLoad = verdict(load, usual, input.options.thresholds);
  return {
    start: iso(e.startMs),
    end: iso(e.endMs),
    durationMs: e.endMs - e.startMs,
    clients: e.clients,
    peakClients: e.peakClients,
    peakShare: r4(e.peakShare),
    severity: r4(e.severity),
    serverLoad,
    likelyCause: serverLoad.coincides ? 'server-load' : 'server-or-shared-path',
  };
}

function clientEpisodeOut(
  e: RawEpisode,
  load: ServerLoad | undefined,
  usual: ServerLoad,
  input: SummaryInput,
  network: NetworkEpisode[],
  activeAt: (startMs: number, endMs: number) => number,
): ClientEpisode {
  const t = input.options.thresholds;
  const serverLoad = verdict(load, usual, t);
  const shared = input.network.findIndex((n) => overlaps(e, n));
  const judged = activeAt(e.startMs, e.endMs);
  let likelyCause: LikelyCause;
  if (shared >= 0) likelyCause = network[shared]!.likelyCause;
  else if (serverLoad.coincides) likelyCause = 'server-load';
  else likelyCause = judged >= t.minNetworkClients ? 'client-path' : 'unknown';
  return {
    client: e.client,
    start: iso(e.startMs),
    end: iso(e.endMs),
    durationMs: e.endMs - e.startMs,
    measurements: e.measurements,
    causes: { lowThroughput: e.lowThroughput, highLatency: e.highLatency, failed: e.failed },
    severity: r4(e.severity),
    baselineMbps: r3(e.baselineMbps),
    medianThroughputMbps: r3n(e.medianThroughputMbps),
    maxLatencyMs: r3n(e.maxLatencyMs),
    networkWide: shared >= 0,
    serverLoad,
    likelyCause,
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function findings(summary: Omit<AnalysisSummary, 'findings' | 'excludedFailures'>, input: SummaryInput): Finding[] {
  const t = input.options.thresholds;
  const out: Finding[] = [];
  for (const c of summary.clients) {
    const s = c.schedule;
    if (s.silent) {
      const every = s.expectedIntervalMs === null ? '' : ` (expected every ${formatDuration(s.expectedIntervalMs)})`;
      out.push({
        kind: 'silent',
        client: c.client,
        at: c.lastSeen,
        message: `silent for ${formatDuration(s.silentForMs)} at the window end${every}`,
      });
    }
    if (s.gaps > 0) {
      const message = `${s.gaps} gap(s) in the schedule, longest ${formatDuration(s.longestGapMs ?? 0)}, about ${s.missedEstimate} result(s) missing`;
      out.push({ kind: 'gaps', client: c.client, at: null, message });
    }
    if (c.downloads.failureRate >= t.highFailureRate) {
      const message = `${pct(c.downloads.failureRate)} of downloads failed (${c.downloads.failed} of ${c.downloads.total})`;
      out.push({ kind: 'failures', client: c.client, at: null, message });
    }
    for (const p of c.changePoints) {
      const change = p.change === null ? '' : ` (${p.change > 0 ? '+' : ''}${pct(p.change)})`;
      out.push({
        kind: 'level-change',
        client: c.client,
        at: p.at,
        message: `throughput level moved from ${p.beforeMbps} to ${p.afterMbps} Mbit/s${change}`,
      });
    }
  }
  for (const a of input.absent) {
    const message = a.lastMs === null ? 'no results in the window' : `no results in the window; last seen ${iso(a.lastMs)}`;
    out.push({ kind: 'absent', client: a.client, at: ison(a.lastMs), message });
  }
  for (const n of summary.networkEpisodes) {
    const message = `${n.clients.length} clients degraded together for ${formatDuration(n.durationMs)} (peak ${pct(n.peakShare)} of active clients); likely cause: ${n.likelyCause}`;
    out.push({ kind: 'network-episode', client: null, at: n.start, message });
  }
  return out.sort(
    (a, b) => compareText(a.kind, b.kind) || compareText(a.client ?? '', b.client ?? '') || compareText(a.at ?? '', b.at ?? ''),
  );
}

export function assembleSummary(input: SummaryInput): AnalysisSummary {
  const o = input.options;
  const t = o.thresholds;
  const relative = input.verdict.relative;
  const usual = usualLoad(input.clients);
  const network = input.network.map((e, i) => networkEpisodeOut(e, input.loads.network[i], usual, input));
  const activeAt = activeCounter(input.clients.flatMap((c) => (c.active ? [c.active] : [])));
  const clients = input.clients.map((c) => c.summary);
  const downloads = clients.reduce((sum, c) => sum + c.downloads.total, 0);
  const failed = clients.reduce((sum, c) => sum + c.downloads.failed, 0);
  const summary: Omit<AnalysisSummary, 'findings' | 'excludedFailures'> = {
    schema: ANALYSIS_SCHEMA,
    window: {
      since: ison(o.sinceMs),
      until: ison(o.untilMs),
      firstResult: ison(input.firstMs),
      lastResult: ison(input.lastMs),
      end: ison(input.windowEndMs),
      timeZone: o.timeZone,
      clients: o.clients,
      bucketMs: input.bucketMs,
      direction: input.direction,
      otherDirectionResults: input.otherDirectionResults,
    },
    thresholds: t,
    totals: {
      clients: clients.length,
      downloads,
      succeeded: downloads - failed,
      failed,
      failureRate: r4n(ratio(failed, downloads)),
      bytes: clients.reduce((sum, c) => sum + c.bytes, 0),
    },
    clients,
    hourOfDay: hourProfile(input.profile, relative),
    weekdayHour: weekdayHourMatrix(input.profile),
    busiestHour: input.verdict.busiestHour,
    mostCongestedHour: input.verdict.mostCongestedHour,
    episodes: input.episodes.map((e, i) => clientEpisodeOut(e, input.loads.episodes[i], usual, input, network, activeAt)),
    networkEpisodes: network,
    series: {
      bucketMs: input.bucketMs,
      clients: input.clients.map((c) => ({ client: c.summary.client, points: seriesPoints(c.buckets) })),
      network: networkSeries(input.clients),
    },
  };
  return { ...summary, excludedFailures: [], findings: findings(summary, input) };
}
