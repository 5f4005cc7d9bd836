/**
 * Hour-of-day profile, weekday × hour matrix, the busiest hour and the most congested hour. Pure.
 *
 * Busiest hour: the local hour with the most downloads. Named only with at least minHourDownloads
 * downloads; 'high' confidence when a one-sided binomial test says the top hour beats the
 * runner-up by more than chance (p < busiestSignificance, given their two counts).
 *
 * Most congested hour: for each client with a baseline, its median throughput in each hour over
 * its own baseline (hours with at least minClientHourSamples successes); an hour's relative
 * throughput is the median of those over clients, so a slow client cannot make an hour look
 * congested. The lowest hour is named; 'high' confidence when it is congestedDrop below the
 * typical (median) hour and congestedMargin below the runner-up.
 */
import type { LocalTimeProfile, ProfileGroup } from '../store/analysis-types.js';
import { r3n, r4, r4n, r6, ratio } from './round.js';
import type { Samples } from './samples.js';
import { binomialUpperTail, median, percentileSelect } from './stats.js';
import type { Thresholds } from './thresholds.js';
import type { BusiestHour, CongestedHour, HourProfile, WeekdayHourCell } from './types.js';

/** The percentiles asked of the store for every group: median throughput, p95 download time. */
export const PROFILE_QUERY = { throughputPercentiles: [0.5], downloadPercentiles: [0.95] } as const;

function metrics(g: ProfileGroup) {
  return {
    downloads: g.downloads,
    failed: g.failed,
    failureRate: r4n(ratio(g.failed, g.downloads)),
    bytes: g.bytes,
    medianThroughputMbps: r3n(g.throughputMbps[0] ?? null),
    p95LatencyMs: r3n(g.downloadMs[0] ?? null),
  };
}

/** What the hour rules need of an hour: its downloads (failed ones included) and failures. */
export type HourCounts = Pick<ProfileGroup, 'downloads' | 'failed'>;

/** Local time of an instant (LocalClock). */
export interface HourClock {
  hour(t: number): number;
}

/** Downloads and failures per local hour (0–23) of `series`: what a store's profile counts, in memory. */
export function hourCounts(series: Iterable<Pick<Samples, 'startedAtMs' | 'failed'>>, clock: HourClock): HourCounts[] {
  const hours = Array.from({ length: 24 }, () => ({ downloads: 0, failed: 0 }));
  for (const s of series) {
    for (let i = 0; i < s.startedAtMs.length; i++) {
      const h = hours[clock.hour(s.startedAtMs[i]!)]!;
      h.downloads++;
      h.failed += s.failed[i]!;
    }
  }
  return hours;
}

/** Per local hour: the series' median successful throughput there over its baseline (null below minClientHourSamples). */
export function hourRatios(m: Samples, clock: HourClock, baseline: number | null, t: Thresholds): (number | null)[] {
  if (baseline === null) return Array.from({ length: 24 }, () => null);
  const byHour: number[][] = Array.from({ length: 24 }, () => []);
  for (let i = 0; i < m.startedAtMs.length; i++) {
    const tp = m.throughputMbps[i]!;
    if (m.failed[i] === 0 && !Number.isNaN(tp)) byHour[clock.hour(m.startedAtMs[i]!)]!.push(tp);
  }
  return byHour.map((values) =>
    values.length >= t.minClientHourSamples ? percentileSelect(Float64Array.from(values), 0.5)! / baseline : null,
  );
}

/** `clientRatios[c][h]`: client c's hour-h median over its baseline, or null. */
export function relativeByHour(clientRatios: readonly (readonly (number | null)[])[]): { value: number | null; clients: number }[] {
  return Array.from({ length: 24 }, (_, h) => {
    const values = clientRatios.map((r) => r[h] ?? null).filter((v): v is number => v !== null);
    return { value: median(Float64Array.from(values).sort()), clients: values.length };
  });
}

export function hourProfile(profile: LocalTimeProfile, relative: readonly { value: number | null; clients: number }[]): HourProfile[] {
  return profile.hours.map((g, hour) => ({
    hour,
    ...metrics(g),
    relativeThroughput: r4n(relative[hour]?.value ?? null),
    clients: relative[hour]?.clients ?? 0,
  }));
}

export function weekdayHourMatrix(profile: LocalTimeProfile): WeekdayHourCell[] {
  return profile.weekdayHours.map((g, i) => ({ weekday: Math.floor(i / 24) + 1, hour: i % 24, ...metrics(g) }));
}

const hh = (hour: number): string => `${String(hour).padStart(2, '0')}:00`;
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function busiestHour(hours: readonly HourCounts[], t: Thresholds): BusiestHour {
  const total = hours.reduce((sum, g) => sum + g.downloads, 0);
  const none = { hour: null, downloads: null, share: null, runnerUp: null, pValue: null };
  if (total < t.minHourDownloads) {
    return {
      ...none,
      confidence: 'insufficient-data',
      reason: `${total} downloads; at least ${t.minHourDownloads} are needed to name a busiest hour`,
    };
  }
  const ranked = hours.map((g, hour) => ({ hour, downloads: g.downloads })).sort((a, b) => b.downloads - a.downloads || a.hour - b.hour);
  const top = ranked[0]!;
  const next = ranked[1]!;
  const share = r4(top.downloads / total);
  const pValue = binomialUpperTail(top.downloads, top.downloads + next.downloads);
  const base = { hour: top.hour, downloads: top.downloads, share, runnerUp: next, pValue: r6(pValue) };
  if (top.downloads === next.downloads) {
    return { ...base, confidence: 'low', reason: `${hh(top.hour)} and ${hh(next.hour)} tie at ${top.downloads} downloads` };
  }
  const versus = `${top.downloads} downloads (${pct(share)} of all) against ${next.downloads} at ${hh(next.hour)}, binomial p = ${pValue.toPrecision(2)}`;
  return pValue < t.busiestSignificance
    ? { ...base, confidence: 'high', reason: `${hh(top.hour)}: ${versus}` }
    : { ...base, confidence: 'low', reason: `${hh(top.hour)} is not clearly busier: ${versus}` };
}

export function mostCongestedHour(
  hours: readonly HourCounts[],
  relative: readonly { value: number | null; clients: number }[],
  t: Thresholds,
): CongestedHour {
  const succeeded = hours.reduce((sum, g) => sum + g.downloads - g.failed, 0);
  const none = { hour: null, relativeThroughput: null, typicalRelativeThroughput: null, drop: null, clients: null, runnerUp: null };
  if (succeeded < t.minHourDownloads) {
    return {
      ...none,
      confidence: 'insufficient-data',
      reason: `${succeeded} successful downloads; at least ${t.minHourDownloads} are needed to name a most congested hour`,
    };
  }
  const ranked = relative
    .map((r, hour) => ({ hour, value: r.value, clients: r.clients }))
    .filter((r): r is { hour: number; value: number; clients: number } => r.value !== null)
    .sort((a, b) => a.value - b.value || a.hour - b.hour);
  if (ranked.length < 2) {
    return {
      ...none,
      confidence: 'insufficient-data',
      reason: `relative throughput is known for ${ranked.length} hour(s); at least 2 are needed (clients need a baseline and ${t.minClientHourSamples} successes in an hour)`,
    };
  }
  const worst = ranked[0]!;
  const next = ranked[1]!;
  const typical = median(Float64Array.from(ranked, (r) => r.value).sort())!;
  const drop = typical > 0 ? 1 - worst.value / typical : 0;
  const base = {
    hour: worst.hour,
    relativeThroughput: r4(worst.value),
    typicalRelativeThroughput: r4(typical),
    drop: r4(drop),
    clients: worst.clients,
    runnerUp: { hour: next.hour, relativeThroughput: r4(next.value) },
  };
  const level = `clients reach ${pct(worst.value)} of their baseline at ${hh(worst.hour)} against ${pct(typical)} in a typical hour`;
  if (drop < t.congestedDrop) {
    return { ...base, confidence: 'low', reason: `no hour is ${pct(t.congestedDrop)} below the typical hour: ${level}` };
  }
  if (next.value - worst.value < t.congestedMargin) {
    return { ...base, confidence: 'low', reason: `${level}, but ${hh(next.hour)} is about as congested (${pct(next.value)})` };
  }
  return { ...base, confidence: 'high', reason: `${level} (next: ${hh(next.hour)} at ${pct(next.value)})` };
}
