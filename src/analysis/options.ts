/**
 * What an analysis is asked: the window, the clients, the time zone and the thresholds. Every
 * threshold has a documented default (docs/analysis.md); a bad value is a UsageError.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { Thresholds } from './thresholds.js';
import { checkTimeZone } from './timezone.js';

export type { Thresholds } from './thresholds.js';

const fraction = z.number().min(0).max(1);
const positive = z.number().positive().finite();
const count = z.number().int().min(1).max(1_000_000_000);

export const thresholdsSchema = z.strictObject({
  /** A spacing longer than this many expected intervals is a gap; silence for as long is a finding. */
  gapFactor: z.number().min(1).finite().default(3),
  /** Spacings needed before a client's expected interval (their median) is inferred. */
  minIntervalSamples: count.default(2),
  /** A client's throughput baseline is this percentile of its successful throughputs. */
  baselinePercentile: fraction.default(0.9),
  /** A client's latency baseline is this percentile of its download times. */
  latencyBaselinePercentile: fraction.default(0.1),
  /** Successful results a client needs before it has a baseline (and can be judged). */
  minBaselineSamples: count.default(10),
  /** A result is degraded below this fraction of its client's throughput baseline … */
  degradedThroughputFraction: fraction.default(0.5),
  /** … or with a download time above this multiple of its latency baseline, or when it failed. */
  degradedLatencyFactor: z.number().min(1).finite().default(3),
  /** An episode spans at least this long (first to last degraded result) … */
  minEpisodeMs: z.number().int().min(0).default(600_000),
  /** … and holds at least this many consecutive degraded results. */
  minEpisodeMeasurements: count.default(3),
  /** Network-wide: at least this share of the clients active at the time are in an episode … */
  networkShare: fraction.default(0.5),
  /** … and at least this many of them. */
  minNetworkClients: count.default(2),
  /** … for at least this long. */
  minNetworkEpisodeMs: z.number().int().min(0).default(300_000),
  /** An episode coincides with server load when the server's mean concurrency in it is this multiple of the window's … */
  serverLoadFactor: z.number().min(1).finite().default(1.5),
  /** … and at least this many concurrent transfers. */
  minServerConcurrentTransfers: z.number().min(0).finite().default(2),
  /** Downloads needed before the busiest or most congested hour is named. */
  minHourDownloads: count.default(50),
  /** The busiest hour is 'high' confidence when a binomial test against the runner-up gives p below this. */
  busiestSignificance: z.number().gt(0).lt(1).default(0.05),
  /** A client's hour enters the congestion profile with at least this many successful results. */
  minClientHourSamples: count.default(3),
  /** The most congested hour is 'high' confidence when its relative throughput is this far below the typical hour's … */
  congestedDrop: fraction.default(0.2),
  /** … and this far below the runner-up's. */
  congestedMargin: fraction.default(0.05),
  /** Bucket medians needed for a trend. */
  minTrendPoints: count.default(4),
  /** Change points: buckets each side of a step at least … */
  changeMinSegment: count.default(6),
  /** … a level change of at least this fraction … */
  changeMinShift: fraction.default(0.2),
  /** … and a two-sample t score of at least this. */
  changeMinScore: positive.default(5),
  /** A failure rate at or above this is a finding. */
  highFailureRate: fraction.default(0.1),
});

// The schema and the Thresholds interface name the same keys with the same types, both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesThresholds: Same<z.infer<typeof thresholdsSchema>, Thresholds> = true;
void schemaMatchesThresholds;
export const DEFAULT_THRESHOLDS: Thresholds = thresholdsSchema.parse({});
export const THRESHOLD_NAMES = Object.keys(thresholdsSchema.shape) as (keyof Thresholds)[];

/** Series bucket sizes chosen by the window's span. */
export const BUCKETS_MS = { fiveMinutes: 300_000, hour: 3_600_000, day: 86_400_000 } as const;

export interface AnalyseOptions {
  /** Results started at or after (ms since the epoch). */
  sinceMs?: number;
  /** Results started before. */
  untilMs?: number;
  /** Only these clients (all when empty or absent). */
  clients?: readonly string[];
  /** The direction analysed (default download; uploads are analysed apart, by the same rules). */
  direction?: 'download' | 'upload';
  /** IANA time zone of the hour-of-day profile; default UTC. */
  timeZone?: string;
  /** Series bucket; 'auto' (default) chooses by span. */
  bucketMs?: number | 'auto';
  thresholds?: Partial<Thresholds>;
  /** Which failed results count: 'network' (default; setup and server failures are listed apart) or 'all'. */
  failures?: 'network' | 'all';
}

export interface ResolvedOptions {
  sinceMs: number | null;
  untilMs: number | null;
  clients: string[];
  timeZone: string;
  bucketMs: number | 'auto';
  thresholds: Thresholds;
}

export function resolveOptions(options: AnalyseOptions = {}): ResolvedOptions {
  const sinceMs = options.sinceMs ?? null;
  const untilMs = options.untilMs ?? null;
  for (const [name, value] of [
    ['since', sinceMs],
    ['until', untilMs],
  ] as const) {
    if (value !== null && !Number.isSafeInteger(value)) throw new UsageError(`--${name} must be a time in whole milliseconds`);
  }
  if (sinceMs !== null && untilMs !== null && sinceMs >= untilMs) {
    throw new UsageError(`--since (${new Date(sinceMs).toISOString()}) must be before --until (${new Date(untilMs).toISOString()})`);
  }
  const bucketMs = options.bucketMs ?? 'auto';
  if (bucketMs !== 'auto' && !(Number.isSafeInteger(bucketMs) && bucketMs >= 1000)) {
    throw new UsageError(`bucket must be 'auto' or at least 1s, not ${String(bucketMs)}`);
  }
  const clients = [...new Set(options.clients ?? [])].sort(compareText);
  if (clients.some((c) => c.length === 0)) throw new UsageError('--client needs a name');
  return {
    sinceMs,
    untilMs,
    clients,
    timeZone: checkTimeZone(options.timeZone ?? 'UTC'),
    bucketMs,
    thresholds: parseThresholds(options.thresholds ?? {}),
  };
}

export function parseThresholds(values: Record<string, unknown>): Thresholds {
  const parsed = thresholdsSchema.safeParse(values);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new UsageError(`unknown threshold ${issue.keys.map((k) => `'${k}'`).join(', ')} (known: ${THRESHOLD_NAMES.join(', ')})`);
  }
  const name = issue.path.join('.');
  throw new UsageError(`threshold ${name}=${JSON.stringify(values[name])}: ${issue.message}`);
}

/** Code-point order: the same on every machine and locale, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
