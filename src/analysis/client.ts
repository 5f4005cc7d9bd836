/**
 * Everything about one client that can be known from its own results: statistics, schedule,
 * baselines, episodes, hour-of-day levels, buckets, trend and level changes. Pure; one client's
 * columns in, plain objects out.
 */
import type { ClientMeasurements, SumCount } from '../store/analysis-types.js';
import { baselineColumns } from './baseline.js';
import type { RawEpisode } from './episodes.js';
import type { ActiveSpan } from './network.js';
import { aggregateRpm } from './responsiveness.js';
import { iso, r3, r3n, r4, r4n, ratio } from './round.js';
import { successful } from './samples.js';
import { type Bucket, clientBuckets, levelChanges, trend } from './series.js';
import { mean, median, percentileSelect, percentileSorted, sampleStdDev } from './stats.js';
import type { Thresholds } from './thresholds.js';
import type { ClientSummary, ThroughputStats } from './types.js';
import { type ClientVerdict, type JudgeContext, judgeClient } from './verdict.js';

export interface ClientContext extends JudgeContext {
  thresholds: Thresholds;
  bucketMs: number;
}

export interface ClientAnalysis {
  summary: ClientSummary;
  /** What the rules (verdict.ts) say of this client. */
  verdict: ClientVerdict;
  episodes: RawEpisode[];
  /** Null when the client has no baseline (it cannot be judged, so it is not counted as active). */
  active: ActiveSpan | null;
  /** Per local hour: median throughput there over the baseline, or null. */
  hourRatios: (number | null)[];
  buckets: Bucket[];
  baselineMbps: number | null;
  /** The server's load annotations of this client's results, for the usual server load. */
  serverLoad: { results: number; concurrentTransfers: SumCount; outboundMbps: SumCount };
}

function throughputStats(sorted: Float64Array): ThroughputStats {
  const avg = mean(sorted);
  const sd = sampleStdDev(sorted);
  return {
    mean: r3n(avg),
    min: r3n(sorted[0] ?? null),
    max: r3n(sorted[sorted.length - 1] ?? null),
    median: r3n(median(sorted)),
    p5: r3n(percentileSorted(sorted, 0.05)),
    p95: r3n(percentileSorted(sorted, 0.95)),
    stddev: r3n(sd),
    cv: r4n(sd !== null && avg ? sd / avg : null),
  };
}

const meanOf = (s: SumCount): number | null => r3n(s.count > 0 ? s.sum / s.count : null);

export function analyseClient(m: ClientMeasurements, ctx: ClientContext): ClientAnalysis {
  const t = ctx.thresholds;
  const total = m.startedAtMs.length;
  let failed = 0;
  for (let i = 0; i < total; i++) failed += m.failed[i]!;
  // Download and response times need only a few percentiles: selection, not sorting.
  const columns = baselineColumns(m);
  const { rates, latencies } = columns;
  const responses = successful(m, m.responseMs);
  const verdict = judgeClient(m, ctx, columns);
  const { schedule, episodes } = verdict;
  const { throughputMbps: baselineMbps, latencyMs } = verdict.baselines;
  const buckets = clientBuckets(m, ctx.bucketMs);
  const firstMs = m.startedAtMs[0]!;
  const lastMs = m.startedAtMs[total - 1]!;
  const summary: ClientSummary = {
    client: m.client,
    downloads: { total, succeeded: total - failed, failed, failureRate: r4(failed / total) },
    throughputMbps: throughputStats(rates),
    latencyMs: { mean: r3n(mean(latencies)), p95: r3n(percentileSelect(latencies, 0.95)) },
    responseMs: { mean: r3n(mean(responses)), p95: r3n(percentileSelect(responses, 0.95)) },
    rttMs: { idle: meanOf(m.idleRttMs), loaded: meanOf(m.loadedRttMs), bufferbloat: meanOf(m.bufferbloatMs) },
    rpm: r3n(aggregateRpm(m.rpmReciprocal.count, m.rpmReciprocal.sum)),
    rpmResults: m.rpmReciprocal.count,
    tcp: {
      rttMs: meanOf(m.tcpRttMs),
      retransmits: m.tcpRetransmits.count > 0 ? m.tcpRetransmits.sum : null,
      results: m.tcpRttMs.count,
    },
    clientLimitedShare: r4n(ratio(m.clientLimited, total - failed)),
    bytes: m.bytes,
    firstSeen: iso(firstMs),
    lastSeen: iso(lastMs),
    schedule: {
      expectedIntervalMs: r3n(schedule.expectedIntervalMs),
      gaps: schedule.gaps,
      longestGapMs: r3n(schedule.longestGapMs),
      missedEstimate: schedule.missedEstimate,
      silent: schedule.silent,
      silentForMs: r3(schedule.silentForMs),
    },
    baseline: { throughputMbps: r3n(baselineMbps), latencyMs: r3n(latencyMs) },
    trend: trend(buckets, ctx.bucketMs, t),
    changePoints: levelChanges(buckets, ctx.bucketMs, t),
    episodes: episodes.length,
  };
  return {
    summary,
    verdict,
    episodes,
    active: verdict.active,
    hourRatios: verdict.hourRatios,
    buckets,
    baselineMbps,
    serverLoad: { results: total, concurrentTransfers: m.serverConcurrentTransfers, outboundMbps: m.serverOutboundMbps },
  };
}
