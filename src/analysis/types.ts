/**
 * The analysis summary: the JSON contract of `netprobe analyse --json` and the input of the HTML
 * report. Times are ISO 8601 UTC strings; durations `…Ms`; rates `…Mbps`; shares and ratios are
 * fractions 0..1. Absent values are null, never omitted. docs/analysis.md documents every field.
 */
import type { Thresholds } from './thresholds.js';

export const ANALYSIS_SCHEMA = 'netprobe.analysis/1';

export type Confidence = 'high' | 'low' | 'insufficient-data';

export interface AnalysisSummary {
  schema: typeof ANALYSIS_SCHEMA;
  window: AnalysisWindow;
  thresholds: Thresholds;
  totals: Totals;
  clients: ClientSummary[];
  hourOfDay: HourProfile[];
  weekdayHour: WeekdayHourCell[];
  busiestHour: BusiestHour;
  mostCongestedHour: CongestedHour;
  episodes: ClientEpisode[];
  networkEpisodes: NetworkEpisode[];
  series: Series;
  /**
   * Failed results left out of every figure above because they are not network failures (setup
   * or server, by the rule in error-class.ts), per client and error code; empty with --failures all.
   */
  excludedFailures: ExcludedFailure[];
  findings: Finding[];
}

export interface ExcludedFailure {
  client: string;
  errorClass: 'setup' | 'server';
  code: string;
  count: number;
  first: string;
  last: string;
}

export interface AnalysisWindow {
  /** As asked (--since / --until), else null. */
  since: string | null;
  until: string | null;
  /** Start of the first and of the last result analysed. */
  firstResult: string | null;
  lastResult: string | null;
  /** The instant silence is measured up to: `until`, else the last result. */
  end: string | null;
  timeZone: string;
  /** --client filter; empty = all clients. */
  clients: string[];
  /** Width of the series buckets. */
  bucketMs: number;
  /**
   * The direction analysed (--direction; download by default): every figure of the summary is of
   * results of this direction only, including the fields named `downloads`, which count its results.
   */
  direction: 'download' | 'upload';
  /** Results of the other direction in the same window and clients, analysed apart (--direction). */
  otherDirectionResults: number;
}

export interface Totals {
  clients: number;
  downloads: number;
  succeeded: number;
  failed: number;
  failureRate: number | null;
  bytes: number;
}

export interface ThroughputStats {
  mean: number | null;
  min: number | null;
  max: number | null;
  median: number | null;
  p5: number | null;
  p95: number | null;
  stddev: number | null;
  /** stddev / mean. */
  cv: number | null;
}

export interface ClientSummary {
  client: string;
  downloads: { total: number; succeeded: number; failed: number; failureRate: number };
  throughputMbps: ThroughputStats;
  latencyMs: { mean: number | null; p95: number | null };
  responseMs: { mean: number | null; p95: number | null };
  rttMs: { idle: number | null; loaded: number | null; bufferbloat: number | null };
  /**
   * Responsiveness under load, round trips per minute: the harmonic mean of the results' RPM
   * (`aggregateRpm`, analysis/responsiveness.ts; `AGGREGATE_RPM_DEFINITION` says it in words).
   */
  rpm: number | null;
  /** Results behind `rpm` (those that report an RPM above 0). */
  rpmResults: number;
  /**
   * The sending TCP's own view, from results measured with capability 'tcp-info': the mean of their
   * kernel RTT under load (`tcpRttMs`), the segments retransmitted in all, and how many results
   * carry the RTT (null figures when none does).
   */
  tcp: { rttMs: number | null; retransmits: number | null; results: number };
  clientLimitedShare: number | null;
  bytes: number;
  firstSeen: string;
  lastSeen: string;
  schedule: Schedule;
  baseline: { throughputMbps: number | null; latencyMs: number | null };
  trend: Trend | null;
  changePoints: ChangePoint[];
  episodes: number;
}

export interface Schedule {
  /** Median spacing of the client's results; null when too few to tell. */
  expectedIntervalMs: number | null;
  gaps: number;
  longestGapMs: number | null;
  /** Results that should have arrived in the gaps. */
  missedEstimate: number;
  silent: boolean;
  /** From the last result to the window end. */
  silentForMs: number;
}

export interface Trend {
  slopeMbpsPerDay: number;
  /** Slope relative to the median of the bucket medians. */
  slopeFractionPerDay: number | null;
  points: number;
}

export interface ChangePoint {
  /** Start of the first bucket at the new level. */
  at: string;
  beforeMbps: number;
  afterMbps: number;
  /** (after − before) / before. */
  change: number | null;
}

interface GroupMetrics {
  downloads: number;
  failed: number;
  failureRate: number | null;
  bytes: number;
  medianThroughputMbps: number | null;
  p95LatencyMs: number | null;
}

export interface HourProfile extends GroupMetrics {
  hour: number;
  /** Median over clients of (client's median throughput in this hour / client's baseline). */
  relativeThroughput: number | null;
  /** Clients that entered relativeThroughput. */
  clients: number;
}

export interface WeekdayHourCell extends GroupMetrics {
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
  hour: number;
}

export interface BusiestHour {
  hour: number | null;
  downloads: number | null;
  share: number | null;
  runnerUp: { hour: number; downloads: number } | null;
  /** One-sided binomial test of the top hour against the runner-up. */
  pValue: number | null;
  confidence: Confidence;
  reason: string;
}

export interface CongestedHour {
  hour: number | null;
  relativeThroughput: number | null;
  /** Median relativeThroughput over the hours that have one. */
  typicalRelativeThroughput: number | null;
  /** 1 − relativeThroughput / typicalRelativeThroughput. */
  drop: number | null;
  clients: number | null;
  runnerUp: { hour: number; relativeThroughput: number } | null;
  confidence: Confidence;
  reason: string;
}

export type LikelyCause = 'server-load' | 'server-or-shared-path' | 'client-path' | 'unknown';

export interface ServerLoadVerdict {
  meanConcurrentTransfers: number | null;
  meanOutboundMbps: number | null;
  windowMeanConcurrentTransfers: number | null;
  /** null when no result in the episode carries the server's annotation. */
  coincides: boolean | null;
}

export interface ClientEpisode {
  client: string;
  /** Start of the first and of the last degraded result. */
  start: string;
  end: string;
  durationMs: number;
  measurements: number;
  causes: { lowThroughput: number; highLatency: number; failed: number };
  /** Median over its results of how far each fell short (0 = at baseline, 1 = failed). */
  severity: number;
  baselineMbps: number;
  medianThroughputMbps: number | null;
  maxLatencyMs: number | null;
  networkWide: boolean;
  serverLoad: ServerLoadVerdict;
  likelyCause: LikelyCause;
}

export interface NetworkEpisode {
  start: string;
  end: string;
  durationMs: number;
  clients: string[];
  peakClients: number;
  /** Largest share of the active clients in an episode at once. */
  peakShare: number;
  /** Median severity of the client episodes involved. */
  severity: number;
  serverLoad: ServerLoadVerdict;
  likelyCause: LikelyCause;
}

export interface SeriesPoint {
  /** Bucket start. */
  start: string;
  downloads: number;
  failed: number;
  medianMbps: number | null;
  p10Mbps: number | null;
  p90Mbps: number | null;
}

export interface NetworkPoint {
  start: string;
  /** Clients with a baseline and a successful result in the bucket. */
  clients: number;
  /** Percentiles over those clients of (bucket median / client baseline). */
  medianRelative: number;
  p10Relative: number;
  p90Relative: number;
}

export interface Series {
  bucketMs: number;
  clients: { client: string; points: SeriesPoint[] }[];
  network: NetworkPoint[];
}

export type FindingKind =
  'silent' | 'absent' | 'gaps' | 'failures' | 'setup-failures' | 'server-failures' | 'network-episode' | 'level-change';

export interface Finding {
  kind: FindingKind;
  client: string | null;
  at: string | null;
  message: string;
}
