import Database from 'better-sqlite3';
import { StorageError } from '../errors.js';
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
import { genericCsvExport, sqliteCsvInWorker } from './csv-export.js';
import * as analysis from './sqlite-analysis.js';
import * as maintenance from './sqlite-maintenance.js';
import { RESULT_COLUMNS, fromRow, toValues } from './rows.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import type { CsvExport, ImportBatch, InsertOutcome, PruneOutcome, ResultFilter, Store, TransferRecord } from './types.js';

export interface SqliteStoreOptions {
  /** 'full' survives power loss; 'normal' survives a process crash (WAL). */
  synchronous?: 'full' | 'normal';
  readonly?: boolean;
  /** Milliseconds to wait on a locked database before failing. */
  busyTimeoutMs?: number;
  /** SQLite's page cache in MiB (its default is 2 MiB); a bulk load into large indexes reads less back with more. */
  cacheMiB?: number;
}

const PAGE_ROWS = 5_000;
/**
 * SQLite's busy handler sleeps inside the call, and better-sqlite3 calls are synchronous: a write
 * to a locked database would stall the whole event loop (accepting, transfers) for busyTimeoutMs.
 * Writes wait at most this long inside SQLite; the rest of busyTimeoutMs is waited between attempts,
 * with the event loop free.
 */
const BUSY_SLICE_MS = 10;
const BUSY_RETRY_MS = 20;

const isBusy = (err: unknown): boolean => {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
};

function wrap<T>(what: string, location: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StorageError) throw err;
    if ((err as { code?: unknown }).code === 'SQLITE_NOTADB') {
      throw new StorageError(`${location} is not a netprobe store (not an SQLite database)`, { cause: err });
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new StorageError(`${what} failed on SQLite store ${location}: ${message}`, { cause: err });
  }
}

/** The file's schema version; refuses one newer than this code knows. */
/**
 * Refuses a SQLite file that is not a netprobe store (a client's outbox, another program's
 * database) before anything reads or migrates it; an empty file is a new store only when writable.
 */
function checkIsStore(db: Database.Database, location: string, version: number, readonly: boolean): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
  if (tables.length === 0 && version === 0) {
    if (readonly) throw new StorageError(`${location} is empty, not a netprobe store (give the server's store, e.g. ./netprobe.db)`);
    return;
  }
  if (version === 0 || !tables.includes('results')) {
    const outbox = tables.includes('outbox') ? "; it is a client's outbox" : '';
    throw new StorageError(
      `${location} is not a netprobe store (its tables: ${tables.join(', ') || 'none'}${outbox}); give the server's store, e.g. ./netprobe.db`,
    );
  }
}

function schemaVersion(db: Database.Database, location: string, readonly = true): number {
  const version = db.pragma('user_version', { simple: true }) as number;
  checkIsStore(db, location, version, readonly);
  if (version > SQLITE_MIGRATIONS.length) {
    throw new StorageError(
      `store ${location} has schema version ${version}, newer than this netprobe knows (${SQLITE_MIGRATIONS.length}); upgrade netprobe`,
    );
  }
  return version;
}

export function migrateSqlite(db: Database.Database, location: string): void {
  const version = schemaVersion(db, location, false);
  for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

function filterSql(filter: ResultFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  if (filter.sinceMs !== undefined) {
    clauses.push('started_at_ms >= ?');
    params.push(filter.sinceMs);
  }
  if (filter.untilMs !== undefined) {
    clauses.push('started_at_ms < ?');
    params.push(filter.untilMs);
  }
  if (filter.clients && filter.clients.length > 0) {
    clauses.push(`client IN (${filter.clients.map(() => '?').join(',')})`);
    params.push(...filter.clients);
  }
  if (filter.errorCodes !== undefined) {
    clauses.push(`error_code IN (${filter.errorCodes.map(() => '?').join(',') || 'NULL'})`);
    params.push(...filter.errorCodes);
  }
  if (filter.excludeErrorCodes && filter.excludeErrorCodes.length > 0) {
    clauses.push(`(error_code IS NULL OR error_code NOT IN (${filter.excludeErrorCodes.map(() => '?').join(',')}))`);
    params.push(...filter.excludeErrorCodes);
  }
  if (filter.direction !== undefined) {
    clauses.push('direction = ?');
    params.push(filter.direction);
  }
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

/** Embedded store on one SQLite file (WAL). better-sqlite3 is synchronous; calls are short. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly insertResult: Database.Statement;
  private readonly insertTransfer: Database.Statement;
  /** Prepared once: the simulator asks it for every result it made (258k in its bench), and preparing costs ~50 µs. */
  private hasResultStmt: Database.Statement<[string]> | undefined;

  private readonly busyTimeoutMs: number;

  constructor(
    readonly location: string,
    options: SqliteStoreOptions = {},
  ) {
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.db = wrap('opening', location, () => {
      const db = new Database(location, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
      db.pragma(`busy_timeout = ${this.busyTimeoutMs}`);
      // Before any pragma that writes: a foreign file is refused untouched.
      try {
        schemaVersion(db, location, options.readonly ?? false);
      } catch (err) {
        db.close();
        throw err;
      }
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
        if (options.cacheMiB !== undefined) db.pragma(`cache_size = ${-Math.round(options.cacheMiB * 1024)}`);
        migrateSqlite(db, location);
        db.pragma(`busy_timeout = ${Math.min(BUSY_SLICE_MS, this.busyTimeoutMs)}`);
      }
      return db;
    });
    this.insertResult = this.db.prepare(
      `INSERT INTO results (${RESULT_COLUMNS.join(',')}) VALUES (${RESULT_COLUMNS.map(() => '?').join(',')})
       ON CONFLICT (id) DO NOTHING`,
    );
    this.insertTransfer = this.db.prepare(
      `INSERT INTO transfers (client, file, mode, bytes, started_at_ms, duration_ms, concurrent_at_start, outcome)
       VALUES (@client, @file, @mode, @bytes, @startedAtMs, @durationMs, @concurrentAtStart, @outcome)`,
    );
  }

  async insertResults(batches: readonly (readonly StoredResult[])[]): Promise<InsertOutcome[]> {
    return this.write('storing results', () =>
      this.db.transaction(() =>
        batches.map((rows) => {
          let inserted = 0;
          for (const r of rows) inserted += this.insertResult.run(toValues(r)).changes;
          return { inserted, duplicates: rows.length - inserted };
        }),
      )(),
    );
  }

  async insertTransfers(transfers: readonly TransferRecord[]): Promise<void> {
    await this.write('storing transfers', () =>
      this.db.transaction((rows: readonly TransferRecord[]) => {
        for (const t of rows) this.insertTransfer.run(t);
      })(transfers),
    );
  }

  /** A write transaction, retried while the database is locked for up to busyTimeoutMs (see BUSY_SLICE_MS). */
  private async write<T>(what: string, fn: () => T): Promise<T> {
    const deadline = performance.now() + this.busyTimeoutMs;
    for (;;) {
      try {
        return wrap(what, this.location, fn);
      } catch (err) {
        const leftMs = deadline - performance.now();
        if (!isBusy(err) || leftMs <= 0) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(BUSY_RETRY_MS, leftMs)));
      }
    }
  }

  async countResults(filter: ResultFilter = {}): Promise<number> {
    const { where, params } = filterSql(filter);
    return wrap('counting', this.location, () => {
      const row = this.db.prepare(`SELECT count(*) AS n FROM results ${where}`).get(...params) as { n: number };
      return row.n;
    });
  }

  async checkWritable(): Promise<void> {
    // BEGIN IMMEDIATE takes the write lock (waiting busy_timeout for another writer); nothing is written.
    wrap('checking the store is writable', this.location, () => {
      this.db.exec('BEGIN IMMEDIATE');
      this.db.exec('ROLLBACK');
    });
  }

  async hasResult(id: string): Promise<boolean> {
    return wrap('reading', this.location, () => {
      this.hasResultStmt ??= this.db.prepare<[string]>('SELECT 1 FROM results WHERE id = ?');
      return this.hasResultStmt.get(id) !== undefined;
    });
  }

  async *iterateResults(filter: ResultFilter = {}): AsyncIterable<StoredResult> {
    const { where, params } = filterSql(filter);
    // Keyset pagination on (started_at_ms, id): bounded memory, stable under concurrent inserts.
    const keyset = where ? `${where} AND (started_at_ms, id) > (?, ?)` : 'WHERE (started_at_ms, id) > (?, ?)';
    const page = this.db.prepare(`SELECT * FROM results ${keyset} ORDER BY started_at_ms, id LIMIT ${PAGE_ROWS}`);
    let lastStarted = Number.MIN_SAFE_INTEGER;
    let lastId = '';
    for (;;) {
      const rows = wrap('reading', this.location, () => page.all(...params, lastStarted, lastId)) as Record<string, unknown>[];
      for (const row of rows) yield fromRow(row);
      if (rows.length < PAGE_ROWS) return;
      const last = rows[rows.length - 1]!;
      lastStarted = Number(last.started_at_ms);
      lastId = String(last.id);
    }
  }

  async resultSpan(filter: ResultFilter = {}): Promise<ResultSpan> {
    return wrap('reading', this.location, () => analysis.resultSpan(this.db, filterSql(filter)));
  }

  async *clientMeasurements(filter: ResultFilter = {}): AsyncIterable<ClientMeasurements> {
    const clients = wrap('reading', this.location, () => analysis.clientMeasurements(this.db, filterSql(filter)));
    for (;;) {
      const next = wrap('reading', this.location, () => clients.next());
      if (next.done) return;
      yield next.value;
    }
  }

  async localTimeProfile(filter: ResultFilter, query: ProfileQuery): Promise<LocalTimeProfile> {
    return wrap('reading', this.location, () => analysis.localTimeProfile(this.db, filterSql(filter), query));
  }

  async serverLoad(windows: readonly TimeWindow[]): Promise<ServerLoad[]> {
    return wrap('reading', this.location, () => analysis.serverLoad(this.db, windows));
  }

  async lastSeenBefore(beforeMs: number, clients?: readonly string[]): Promise<ClientLastSeen[]> {
    return wrap('reading', this.location, () => analysis.lastSeenBefore(this.db, beforeMs, clients));
  }

  /** A file is exported by SQLite itself in a worker thread (sqlite-csv.ts); an in-memory database through iterateResults. */
  exportResultsCsv(outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): CsvExport {
    if (this.location === ':memory:') return genericCsvExport(this, outPath, filter, onRows);
    return sqliteCsvInWorker({ dbPath: this.location, outPath, filter }, onRows);
  }

  async *iterateTransfers(filter: ResultFilter = {}): AsyncIterable<TransferRecord> {
    const transfers = maintenance.iterateTransfers(this.db, filterSql(filter));
    for (;;) {
      const next = wrap('reading', this.location, () => transfers.next());
      if (next.done) return;
      yield next.value;
    }
  }

  async prune(beforeMs: number): Promise<PruneOutcome> {
    return this.write('pruning', () => maintenance.prune(this.db, beforeMs));
  }

  async importBatch(batch: ImportBatch): Promise<InsertOutcome> {
    return this.write('importing', () =>
      this.db.transaction(() => {
        let inserted = 0;
        for (const r of batch.results) inserted += this.insertResult.run(toValues(r)).changes;
        for (const t of batch.transfers) this.insertTransfer.run(t);
        maintenance.writeProgress(this.db, batch.progress.key, batch.progress.value);
        return { inserted, duplicates: batch.results.length - inserted };
      })(),
    );
  }

  async importProgress(key: string): Promise<string | null> {
    return wrap('reading', this.location, () => maintenance.readProgress(this.db, key));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
