/**
 * Which clients a report names: the worst clients (headline) and the few the per-client charts draw
 * one by one, the rest folded into "others". Pure: summary in, names out.
 *
 * Worst first: most time in congestion episodes, then the higher failure rate, then the lower
 * median throughput relative to the client's own baseline, then the name. A client with no
 * episode, a failure rate below the `highFailureRate` threshold and no silence is not "worst".
 */
import type { AnalysisSummary, ClientSummary } from '../analysis/types.js';

export interface ClientRank {
  client: string;
  /** Sum of the client's episode durations. */
  episodeMs: number;
  episodes: number;
  failureRate: number;
  /** Median throughput ÷ baseline; null without a baseline. */
  relativeMedian: number | null;
  silent: boolean;
  /** Has an episode, a high failure rate or went silent. */
  troubled: boolean;
}

export function rankClients(summary: AnalysisSummary): ClientRank[] {
  const episodeMs = new Map<string, number>();
  for (const e of summary.episodes) episodeMs.set(e.client, (episodeMs.get(e.client) ?? 0) + e.durationMs);
  const high = summary.thresholds.highFailureRate;
  const ranks = summary.clients.map((c: ClientSummary): ClientRank => {
    const ms = episodeMs.get(c.client) ?? 0;
    const median = c.throughputMbps.median;
    const baseline = c.baseline.throughputMbps;
    return {
      client: c.client,
      episodeMs: ms,
      episodes: c.episodes,
      failureRate: c.downloads.failureRate,
      relativeMedian: median !== null && baseline !== null && baseline > 0 ? median / baseline : null,
      silent: c.schedule.silent,
      troubled: c.episodes > 0 || (c.downloads.total > 0 && c.downloads.failureRate >= high) || c.schedule.silent,
    };
  });
  return ranks.sort(
    (a, b) =>
      b.episodeMs - a.episodeMs ||
      b.episodes - a.episodes ||
      b.failureRate - a.failureRate ||
      (a.relativeMedian ?? 1) - (b.relativeMedian ?? 1) ||
      (a.client < b.client ? -1 : a.client > b.client ? 1 : 0),
  );
}

/** The troubled clients, worst first, at most `max`. */
export function worstClients(summary: AnalysisSummary, max = 5): ClientRank[] {
  return rankClients(summary)
    .filter((r) => r.troubled)
    .slice(0, max);
}

export interface Featured {
  /** Clients drawn one by one, worst first. */
  clients: string[];
  /** The clients folded into "others" (empty when every client is featured). */
  others: string[];
}

/** Up to `panels` groups: every client when they fit, else the `panels − 1` worst plus "others". */
export function featuredClients(summary: AnalysisSummary, panels = 6): Featured {
  const ranked = rankClients(summary).map((r) => r.client);
  if (ranked.length <= panels) return { clients: ranked, others: [] };
  return { clients: ranked.slice(0, panels - 1), others: ranked.slice(panels - 1).sort() };
}

/** "others (495 clients)". */
export function othersLabel(count: number): string {
  return `${count} other client${count === 1 ? '' : 's'}`;
}
