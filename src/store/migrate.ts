/**
 * `netprobe store migrate`: copies one store into another (SQLite → PostgreSQL, or any pair),
 * streaming in batches. Each batch and the progress marker it brings are one transaction in the
 * destination (Store.importBatch), so an interrupted copy resumes after the last batch stored.
 *
 * Results are copied by (start time, id) and stored only when their id is new, so a copy is
 * idempotent. Once a copy has finished, the next run checks every result again (a live source
 * may since have received late results with earlier start times) and only new ids are stored.
 * Transfers have no id: each is copied once, in (start time, insertion) order, and a later run
 * copies those that started after the last one copied.
 */
import type { StoredResult } from '../protocol/result.js';
import type { AnalysisSource, Maintenance, TransferRecord } from './types.js';

export interface CopyOptions {
  /** Rows per destination transaction (default 5,000). */
  batchSize?: number;
  /** Progress marker key in the destination (default: the source's kind and location). */
  key?: string;
  /** Stops between batches; a later run resumes. */
  signal?: AbortSignal;
  /** After each batch stored. */
  onProgress?: (progress: CopyProgress) => void;
}

export interface CopyProgress {
  phase: 'results' | 'transfers';
  /** Source results read in this run (including those skipped as already copied). */
  resultsRead: number;
  resultsInserted: number;
  resultsDuplicate: number;
  transfersCopied: number;
}

export interface CopySummary extends CopyProgress {
  /** The run continued an interrupted one. */
  resumed: boolean;
  /** Both phases finished (false when stopped by the signal). */
  complete: boolean;
}

/** The marker kept in the destination under the key (JSON). */
interface Marker {
  v: 1;
  /** Last result stored by the running pass: (startedAtMs, id); null before the first. */
  results: { atMs: number; id: string } | null;
  /** The pass over the results finished (the next run starts a new one). */
  resultsComplete: boolean;
  /** Last transfer copied: its start time and how many transfers with that start time were copied. */
  transfers: { atMs: number; count: number } | null;
}

const START: Marker = { v: 1, results: null, resultsComplete: false, transfers: null };

function readMarker(text: string | null): Marker {
  if (text === null) return START;
  const parsed = JSON.parse(text) as Partial<Marker>;
  return parsed.v === 1 ? { ...START, ...parsed } : START;
}

const afterCursor = (atMs: number, id: string, cursor: Marker['results']): boolean =>
  cursor === null || atMs > cursor.atMs || (atMs === cursor.atMs && id > cursor.id);

export async function copyStore(
  source: Pick<AnalysisSource, 'kind' | 'location' | 'iterateResults'> & Pick<Maintenance, 'iterateTransfers'>,
  destination: Pick<Maintenance, 'importBatch' | 'importProgress'>,
  options: CopyOptions = {},
): Promise<CopySummary> {
  const batchSize = options.batchSize ?? 5_000;
  const key = options.key ?? `migrate:${source.kind}:${source.location}`;
  let marker = readMarker(await destination.importProgress(key));
  const resumed = marker.results !== null && !marker.resultsComplete;
  if (marker.resultsComplete) marker = { ...marker, results: null, resultsComplete: false };
  const progress: CopyProgress = { phase: 'results', resultsRead: 0, resultsInserted: 0, resultsDuplicate: 0, transfersCopied: 0 };
  const stopped = () => options.signal?.aborted === true;
  const store = async (results: StoredResult[], transfers: TransferRecord[], next: Marker) => {
    const outcome = await destination.importBatch({ results, transfers, progress: { key, value: JSON.stringify(next) } });
    marker = next;
    progress.resultsInserted += outcome.inserted;
    progress.resultsDuplicate += outcome.duplicates;
    progress.transfersCopied += transfers.length;
    options.onProgress?.({ ...progress });
  };

  // Results, from the cursor on (rows at the cursor's millisecond up to its id were stored).
  let results: StoredResult[] = [];
  const cursor = marker.results;
  for await (const r of source.iterateResults(cursor ? { sinceMs: cursor.atMs } : {})) {
    const atMs = Date.parse(r.startedAt);
    if (!afterCursor(atMs, r.id, cursor)) continue;
    progress.resultsRead++;
    results.push(r);
    if (results.length < batchSize) continue;
    await store(results, [], { ...marker, results: { atMs, id: r.id } });
    results = [];
    if (stopped()) return { ...progress, resumed, complete: false };
  }
  const last = results[results.length - 1];
  const lastCursor = last ? { atMs: Date.parse(last.startedAt), id: last.id } : marker.results;
  await store(results, [], { ...marker, results: lastCursor, resultsComplete: true });
  if (stopped()) return { ...progress, resumed, complete: false };

  // Transfers started at or after the last one copied, less those already copied at that instant.
  progress.phase = 'transfers';
  const from = marker.transfers;
  let skip = from?.count ?? 0;
  let transfers: TransferRecord[] = [];
  let at = from;
  for await (const t of source.iterateTransfers(from ? { sinceMs: from.atMs } : {})) {
    if (from && t.startedAtMs === from.atMs && skip > 0) {
      skip--;
      continue;
    }
    at = at && at.atMs === t.startedAtMs ? { atMs: at.atMs, count: at.count + 1 } : { atMs: t.startedAtMs, count: 1 };
    transfers.push(t);
    if (transfers.length < batchSize) continue;
    await store([], transfers, { ...marker, transfers: at });
    transfers = [];
    if (stopped()) return { ...progress, resumed, complete: false };
  }
  if (transfers.length > 0) await store([], transfers, { ...marker, transfers: at });
  return { ...progress, resumed, complete: true };
}
