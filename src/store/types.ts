import type { StoredResult } from '../protocol/result.js';

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

export interface ResultFilter {
  sinceMs?: number;
  untilMs?: number;
  clients?: string[];
}

/**
 * Persistence of results and transfers. Implementations: SQLite (embedded default) and
 * PostgreSQL (scale-out). Writes are durable when the promise resolves: the server ACKs only then.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly location: string;
  /**
   * Stores every result whose id is new, all batches in one transaction (group commit); known ids
   * are counted, not rewritten. One outcome per batch, in order.
   */
  insertResults(batches: readonly (readonly StoredResult[])[]): Promise<InsertOutcome[]>;
  insertTransfers(transfers: readonly TransferRecord[]): Promise<void>;
  countResults(filter?: ResultFilter): Promise<number>;
  /** Results ordered by start time, streamed in pages (never the whole table in memory). */
  iterateResults(filter?: ResultFilter): AsyncIterable<StoredResult>;
  hasResult(id: string): Promise<boolean>;
  close(): Promise<void>;
}
