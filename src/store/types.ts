import type { Direction } from '../protocol/result.js';
import type { StoredResult } from '../protocol/result.js';
import type {
  ClientLastSeen,
  ClientMeasurements,
  LocalTimeProfile,
  ProfileQuery,
  ResultSpan,
  ServerLoad,
  TimeWindow,
} from './analysis-types.js';

/** One download the server served, as the server saw it. */
export interface TransferRecord {
  client: string;
  file: string;
  mode: 'file' | 'duration';
  bytes: number;
  startedAtMs: number;
  durationMs: number;
  /** Transfers already running when this one started (excluding itself). */
  concurrentAtStart: number;
  /** 'ok', or the error code the transfer ended with. */
  outcome: string;
}

export interface InsertOutcome {
  /** Ids newly stored. */
  inserted: number;
  /** Ids that were already stored (idempotent re-sends). */
  duplicates: number;
}

/** What `prune` deleted. */
export interface PruneOutcome {
  results: number;
  transfers: number;
}

/** One step of `netprobe store migrate`: rows and the progress they bring, written in one transaction. */
export interface ImportBatch {
  /** Stored when their id is new (as insertResults). */
  results: readonly StoredResult[];
  transfers: readonly TransferRecord[];
  /** Progress marker of the import, replaced in the same transaction. */
  progress: { key: string; value: string };
}

export interface ResultFilter {
  sinceMs?: number;
  untilMs?: number;
  clients?: string[];
  /** Results only: only those that failed with one of these error codes. */
  errorCodes?: readonly string[];
  /** Results only: leave out those that failed with one of these error codes (successes stay). */
  excludeErrorCodes?: readonly string[];
  /** Only results of this direction (rows from before uploads existed are downloads). */
  direction?: Direction;
}

/** results.csv being written (`exportResultsCsv`). */
export interface CsvExport {
  /** Rows written. */
  done: Promise<number>;
  /** Stops the export (the file is left incomplete). */
  cancel(): Promise<void>;
}

/**
 * What the server's ingest needs: durable writes. Writes are durable when the promise resolves:
 * the server ACKs only then.
 */
export interface ResultSink {
  /**
   * Stores every result whose id is new, all batches in one transaction (group commit); known ids
   * are counted, not rewritten. One outcome per batch, in order.
   */
  insertResults(batches: readonly (readonly StoredResult[])[]): Promise<InsertOutcome[]>;
  insertTransfers(transfers: readonly TransferRecord[]): Promise<void>;
  /**
   * Resolves when a write could be committed now (the server's readiness): SQLite takes and releases
   * the write lock, PostgreSQL checks the session is not read-only (a standby). Rejects with the reason.
   */
  checkWritable(): Promise<void>;
}

/** What analyse, report and the dashboard read (src/store/analysis-types.ts has the shapes and the rules). */
export interface AnalysisSource {
  readonly kind: 'sqlite' | 'postgres';
  /** The location fit for logs and messages (no password). */
  readonly location: string;
  countResults(filter?: ResultFilter): Promise<number>;
  /** Results ordered by start time, streamed in pages (never the whole table in memory). */
  iterateResults(filter?: ResultFilter): AsyncIterable<StoredResult>;
  /** Number of results in the filter and the first and last start time. */
  resultSpan(filter?: ResultFilter): Promise<ResultSpan>;
  /** Each client's results in the filter as columns, clients in ascending order; one client in memory at a time. */
  clientMeasurements(filter?: ResultFilter): AsyncIterable<ClientMeasurements>;
  /** Counts and percentiles per local hour of day and per weekday-hour, local time given by `query.offsets`. */
  localTimeProfile(filter: ResultFilter, query: ProfileQuery): Promise<LocalTimeProfile>;
  /** Server load annotations of all clients' results started in each window, in window order. */
  serverLoad(windows: readonly TimeWindow[]): Promise<ServerLoad[]>;
  /** Each client's latest result start before `beforeMs` (only `clients` when given), by client. */
  lastSeenBefore(beforeMs: number, clients?: readonly string[]): Promise<ClientLastSeen[]>;
  /**
   * Writes the results in `filter` to `outPath` as results.csv (results-csv.ts: one format for every
   * store), in the background; `onRows` reports progress.
   */
  exportResultsCsv(outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): CsvExport;
}

/** What `netprobe store` (migrate, prune) needs beyond reading. */
export interface Maintenance {
  hasResult(id: string): Promise<boolean>;
  /** Transfers started in the filter's time range (`clients` applies too), by start time, then in insertion order; paged. */
  iterateTransfers(filter?: ResultFilter): AsyncIterable<TransferRecord>;
  /** Deletes the results and transfers that started before `beforeMs`. */
  prune(beforeMs: number): Promise<PruneOutcome>;
  /** Stores an import step atomically: a crash leaves the rows and the progress marker consistent. */
  importBatch(batch: ImportBatch): Promise<InsertOutcome>;
  /** The progress marker last written by importBatch under `key`, or null. */
  importProgress(key: string): Promise<string | null>;
}

/**
 * Persistence of results and transfers, split by caller: ResultSink (ingest), AnalysisSource
 * (analyse, report, dashboard), Maintenance (migrate, prune). Implementations: SQLite (embedded
 * default) and PostgreSQL (scale-out). Whoever opens a store closes it and hands each part only
 * the side it needs.
 */
export interface Store extends ResultSink, AnalysisSource, Maintenance {
  close(): Promise<void>;
}
