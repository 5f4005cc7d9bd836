/**
 * The rules a user sees, composed once: a series' baselines, schedule, episodes and hour levels
 * (judgeClient), then the window's episodes, network-wide episodes, busiest hour and most
 * congested hour (judgeWindow). `analyse()` (over a store's aggregates) and the dashboard (over its
 * live window, in memory) call these two and nothing else, so they cannot disagree. Pure.
 */
import { type BaselineColumns, type Baselines, baselineColumns, baselines } from './baseline.js';
import { clientEpisodes, type RawEpisode } from './episodes.js';
import { analyseSchedule, type ScheduleFacts } from './gaps.js';
import { busiestHour, type HourClock, type HourCounts, hourRatios, mostCongestedHour, relativeByHour } from './hours.js';
import { type ActiveSpan, networkEpisodes, type RawNetworkEpisode } from './network.js';
import type { Samples } from './samples.js';
import type { Thresholds } from './thresholds.js';
import type { BusiestHour, CongestedHour } from './types.js';

export interface JudgeContext {
  thresholds: Thresholds;
  /** Local time of the analysis zone. */
  clock: HourClock;
  /** The instant silence is measured up to (the window's end). */
  windowEndMs: number;
}

export interface ClientVerdict {
  client: string;
  baselines: Baselines;
  schedule: ScheduleFacts;
  episodes: RawEpisode[];
  /** Null when the series has no baseline (it cannot be judged, so it is not counted as active). */
  active: ActiveSpan | null;
  /** Per local hour: median throughput there over the baseline, or null. */
  hourRatios: (number | null)[];
}

/** One series (non-empty, in start order). `columns` when the caller already extracted them. */
export function judgeClient(s: Samples, ctx: JudgeContext, columns: BaselineColumns = baselineColumns(s)): ClientVerdict {
  const t = ctx.thresholds;
  const base = baselines(columns, t);
  const schedule = analyseSchedule(s.startedAtMs, ctx.windowEndMs, t);
  const baselineMbps = base.throughputMbps;
  const n = s.startedAtMs.length;
  return {
    client: s.client,
    baselines: base,
    schedule,
    episodes:
      baselineMbps === null
        ? []
        : clientEpisodes(s, { throughputMbps: baselineMbps, latencyMs: base.latencyMs }, schedule.expectedIntervalMs, t),
    active: baselineMbps === null ? null : { client: s.client, fromMs: s.startedAtMs[0]!, toMs: s.startedAtMs[n - 1]! },
    hourRatios: hourRatios(s, ctx.clock, baselineMbps, t),
  };
}

export interface WindowVerdict {
  /** Every series' episodes, by start, then client. */
  episodes: RawEpisode[];
  network: RawNetworkEpisode[];
  /** Per local hour: the median over clients of their hour ratios, and how many clients had one. */
  relative: { value: number | null; clients: number }[];
  busiestHour: BusiestHour;
  mostCongestedHour: CongestedHour;
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The window as a whole: `clients`' verdicts and the downloads per local hour of the same results. */
export function judgeWindow(clients: readonly ClientVerdict[], hours: readonly HourCounts[], t: Thresholds): WindowVerdict {
  const episodes = clients.flatMap((c) => c.episodes).sort((a, b) => a.startMs - b.startMs || byText(a.client, b.client));
  const active = clients.flatMap((c) => (c.active ? [c.active] : []));
  const relative = relativeByHour(clients.map((c) => c.hourRatios));
  return {
    episodes,
    network: networkEpisodes(episodes, active, t),
    relative,
    busiestHour: busiestHour(hours, t),
    mostCongestedHour: mostCongestedHour(hours, relative, t),
  };
}
