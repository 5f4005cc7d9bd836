/**
 * The I/O edge of the analysis: asks the store for its aggregates (one client's columns at a
 * time, the local-time profile, server load per episode) and hands them to the pure modules.
 * Memory holds one client's results plus small per-client summaries, never the whole store.
 */
import type { ClientMeasurements } from '../store/analysis-types.js';
import type { AnalysisSource, ResultFilter } from '../store/types.js';
import { analyseClient, type ClientAnalysis } from './client.js';
import { type FailedRow, NON_NETWORK_CODES, excludedFindings, groupExcluded } from './error-class.js';
import { PROFILE_QUERY } from './hours.js';
import { type AnalyseOptions, compareText, resolveOptions } from './options.js';
import { chooseBucketMs } from './series.js';
import { assembleSummary, emptyProfile } from './summary.js';
import { LocalClock, offsetSpans } from './timezone.js';
import type { AnalysisSummary } from './types.js';
import { judgeWindow } from './verdict.js';

export type { AnalyseOptions } from './options.js';

export interface AnalyseHooks {
  /**
   * Called with each client's columns and its analysis as the store hands them over (one client in
   * memory at a time), so a caller (the report's charts) needs no second read and no rule of its own.
   */
  onClient?: (m: ClientMeasurements, analysis: ClientAnalysis) => void;
}

/** Analyses the results in `store` (see AnalyseOptions); throws UsageError for bad options. */
export async function analyse(store: AnalysisSource, options: AnalyseOptions = {}, hooks: AnalyseHooks = {}): Promise<AnalysisSummary> {
  const o = resolveOptions(options);
  const t = o.thresholds;
  // Every rule runs over one direction at a time: uploads and downloads are never mixed.
  const direction = options.direction ?? 'download';
  const selection: ResultFilter = {
    ...(o.sinceMs !== null && { sinceMs: o.sinceMs }),
    ...(o.untilMs !== null && { untilMs: o.untilMs }),
    ...(o.clients.length > 0 && { clients: o.clients }),
    direction,
  };
  // Setup and server failures say nothing about the network: left out of every figure, listed apart.
  const countAll = options.failures === 'all';
  const filter: ResultFilter = countAll ? selection : { ...selection, excludeErrorCodes: NON_NETWORK_CODES };
  const span = await store.resultSpan(filter);
  const { firstMs, lastMs } = span;
  const windowEndMs = o.untilMs ?? lastMs;
  const windowStartMs = o.sinceMs ?? firstMs;
  const bucketMs = o.bucketMs === 'auto' ? chooseBucketMs((windowEndMs ?? 0) - (windowStartMs ?? 0)) : o.bucketMs;

  let profile = emptyProfile();
  const clients: ClientAnalysis[] = [];
  if (firstMs !== null && lastMs !== null && windowEndMs !== null) {
    const offsets = offsetSpans(o.timeZone, firstMs, lastMs);
    profile = await store.localTimeProfile(filter, { offsets, ...PROFILE_QUERY });
    const context = { thresholds: t, clock: new LocalClock(offsets), windowEndMs, bucketMs };
    for await (const m of store.clientMeasurements(filter)) {
      const analysed = analyseClient(m, context);
      clients.push(analysed);
      hooks.onClient?.(m, analysed);
    }
  }
  clients.sort((a, b) => compareText(a.summary.client, b.summary.client));

  const verdict = judgeWindow(
    clients.map((c) => c.verdict),
    profile.hours,
    t,
  );
  const { episodes, network } = verdict;
  const windows = [...episodes, ...network].map((e) => ({ fromMs: e.startMs, toMs: e.endMs }));
  const loads = windows.length > 0 ? await store.serverLoad(windows) : [];

  const seen = new Set(clients.map((c) => c.summary.client));
  const before = o.sinceMs !== null ? await store.lastSeenBefore(o.sinceMs, o.clients) : [];
  const absent = [
    ...before.filter((b) => !seen.has(b.client)),
    ...o.clients.filter((c) => !seen.has(c) && !before.some((b) => b.client === c)).map((client) => ({ client, lastMs: null })),
  ].sort((a, b) => compareText(a.client, b.client));

  const excluded: FailedRow[] = [];
  if (!countAll) {
    for await (const r of store.iterateResults({ ...selection, errorCodes: NON_NETWORK_CODES })) {
      excluded.push({ client: r.client, code: r.error?.code ?? '', startedAtMs: Date.parse(r.startedAt) });
    }
  }
  const excludedFailures = groupExcluded(excluded);
  // Said in the summary, so results of the other direction are never silently out of sight.
  const other = await store.resultSpan({ ...selection, direction: direction === 'download' ? 'upload' : 'download' });

  const summary = assembleSummary({
    options: o,
    firstMs,
    lastMs,
    windowEndMs,
    bucketMs,
    profile,
    verdict,
    clients,
    episodes,
    network,
    loads: { episodes: loads.slice(0, episodes.length), network: loads.slice(episodes.length) },
    absent,
    direction,
    otherDirectionResults: other.count,
  });
  const findings = [...summary.findings, ...excludedFindings(excludedFailures)].sort(
    (a, b) => compareText(a.kind, b.kind) || compareText(a.client ?? '', b.client ?? '') || compareText(a.at ?? '', b.at ?? ''),
  );
  return { ...summary, excludedFailures, findings };
}
