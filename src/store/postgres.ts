import pg from 'pg';
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
import { genericCsvExport } from './csv-export.js';
import * as analysis from './postgres-analysis.js';
import { prepareResults, transferInsert } from './postgres-ingest.js';
import { type PostgresLocation, parsePostgresLocation } from './postgres-location.js';
import { Partitions, monthOf } from './postgres-partitions.js';
import { checkPostgresSchema, migratePostgres } from './postgres-schema.js';
import { RESULT_COLUMNS, fromRow } from './rows.js';
import type { CsvExport, ImportBatch, InsertOutcome, PruneOutcome, ResultFilter, Store, TransferRecord } from './types.js';

export interface PostgresStoreOptions {
  /** Check the schema but change nothing; every transaction is read-only. */
  readonly?: boolean;
  /** Connections in the pool (default 8). */
  poolSize?: number;
  /** Give up connecting after this long (default 10 s). */
  connectTimeoutMs?: number;
}

const PAGE_ROWS = 5_000;
/** Clients per FETCH of the clientMeasurements cursor (each row holds all of a client's results). */
const CLIENTS_PER_FETCH = 4;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** SQLSTATEs worth one more try: no partition for a row (another process pruned it), deadlock, serialization. */
const RETRYABLE = new Set(['23514', '40P01', '40001']);
const ATTEMPTS = 3;

/** int8 (counts, ms) and numeric (sums of int8) arrive as numbers: everything netprobe stores fits in 2^53. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const RESULT_SELECT = RESULT_COLUMNS.join(', ');

function storageError(what: string, display: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const message = err instanceof Error ? err.message || String((err as { code?: unknown }).code ?? err.name) : String(err);
  return new StorageError(`${what} failed on PostgreSQL store ${display}: ${message}`, { cause: err });
}

const sqlState = (err: unknown): string | undefined => (err as { code?: unknown }).code as string | undefined;

/**
 * Scale-out store: several collectors share one PostgreSQL database through connection pools.
 * Results are partitioned by month (postgres-partitions.ts), ids kept unique by `result_ids`
 * (postgres-ingest.ts), and the analysis queries run in SQL (postgres-analysis.ts).
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  /** The location without its password. */
  readonly location: string;
  private readonly partitions: Partitions;
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly where: PostgresLocation,
    private readonly readonly: boolean,
  ) {
    this.location = where.display;
    this.partitions = new Partitions(pool);
  }

  /** Connects, then migrates the schema (or, read-only, checks it) and makes this month's partitions. */
  static async open(location: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const where = parsePostgresLocation(location);
    const settings = [
      where.options,
      where.schema !== null ? `-c search_path=${where.schema}` : '',
      options.readonly ? '-c default_transaction_read_only=on' : '',
    ].filter((s) => s !== '');
    const pool = new pg.Pool({
      connectionString: where.connectionString,
      ...(settings.length > 0 && { options: settings.join(' ') }),
      max: options.poolSize ?? 8,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: 'netprobe',
      types: TYPES,
    });
    // An idle connection the server dropped (restart, admin): the pool discards it and the next
    // query opens another or reports the failure; without a listener the process would crash.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, where, options.readonly ?? false);
    try {
      await store.init();
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storageError('opening', where.display, err);
    }
    return store;
  }

  private async init(): Promise<void> {
    const client = await this.pool.connect();
    try {
      if (this.readonly) await checkPostgresSchema(client, this.location);
      else await migratePostgres(client, this.where.schema, this.location);
    } finally {
      client.release();
    }
    if (!this.readonly) {
      const now = monthOf(Date.now());
      await this.partitions.ensure([now - 1, now, now + 1]);
    }
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storageError(what, this.location, err);
    }
  }

  /** Makes the months' partitions (and next month's, ahead of time), runs `fn`; retries RETRYABLE failures. */
  private async writing<T>(startedAtMs: readonly number[], fn: () => Promise<T>): Promise<T> {
    const months = new Set(startedAtMs.map(monthOf)).add(monthOf(Date.now()) + 1);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.partitions.ensure(months);
        return await fn();
      } catch (err) {
        if (attempt >= ATTEMPTS || !RETRYABLE.has(sqlState(err) ?? '')) throw err;
        if (sqlState(err) === '23514') this.partitions.forget();
      }
    }
  }

  async insertResults(batches: readonly (readonly StoredResult[])[]): Promise<InsertOutcome[]> {
    const prepared = prepareResults(batches);
    const query = prepared.query;
    if (query === null) return prepared.outcomes([]);
    return this.run('storing results', async () => {
      const { rows } = await this.writing(prepared.startedAtMs, () =>
        this.pool.query<{ id: string }>({ name: 'np_insert_results', ...query }),
      );
      return prepared.outcomes(rows.map((r) => r.id));
    });
  }

  async insertTransfers(transfers: readonly TransferRecord[]): Promise<void> {
    if (transfers.length === 0) return;
    await this.run('storing transfers', () => this.pool.query({ name: 'np_insert_transfers', ...transferInsert(transfers) }));
  }

  async countResults(filter: ResultFilter = {}): Promise<number> {
    const { where, params } = analysis.filterSql(filter);
    return this.run('counting', async () => {
      const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*) AS n FROM results ${where}`, params);
      return rows[0]!.n;
    });
  }

  async hasResult(id: string): Promise<boolean> {
    if (!UUID.test(id)) return false;
    return this.run('reading', async () => (await this.pool.query('SELECT 1 FROM result_ids WHERE id = $1', [id])).rowCount === 1);
  }

  async *iterateResults(filter: ResultFilter = {}): AsyncIterable<StoredResult> {
    const { where, params } = analysis.filterSql(filter);
    const after = params.length;
    // Keyset pagination on (started_at_ms, id), as SQLite: bounded memory, stable under inserts.
    const keyset = `${where ? `${where} AND` : 'WHERE'} (started_at_ms, id) > ($${after + 1}, $${after + 2})`;
    const text = `SELECT ${RESULT_SELECT} FROM results ${keyset} ORDER BY started_at_ms, id LIMIT ${PAGE_ROWS}`;
    let lastStarted = Number.MIN_SAFE_INTEGER;
    let lastId = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await this.run('reading', () => this.pool.query<Record<string, unknown>>(text, [...params, lastStarted, lastId]));
      for (const row of rows) yield fromRow(row);
      if (rows.length < PAGE_ROWS) return;
      const last = rows[rows.length - 1]!;
      lastStarted = Number(last.started_at_ms);
      lastId = String(last.id);
    }
  }

  /** Paged through iterateResults and formatted by results-csv.ts (COPY would need the same cell rules in SQL). */
  exportResultsCsv(outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): CsvExport {
    return genericCsvExport(this, outPath, filter, onRows);
  }

  async *iterateTransfers(filter: ResultFilter = {}): AsyncIterable<TransferRecord> {
    const { where, params } = analysis.filterSql(filter);
    const after = params.length;
    const keyset = `${where ? `${where} AND` : 'WHERE'} (started_at_ms, seq) > ($${after + 1}, $${after + 2})`;
    const text = `SELECT seq, client, file, mode, bytes, started_at_ms, duration_ms, concurrent_at_start, outcome
      FROM transfers ${keyset} ORDER BY started_at_ms, seq LIMIT ${PAGE_ROWS}`;
    let lastStarted = Number.MIN_SAFE_INTEGER;
    let lastSeq = 0;
    for (;;) {
      const { rows } = await this.run('reading', () => this.pool.query<Record<string, unknown>>(text, [...params, lastStarted, lastSeq]));
      for (const r of rows) {
        yield {
          client: String(r.client),
          file: String(r.file),
          mode: r.mode === 'duration' ? 'duration' : 'file',
          bytes: Number(r.bytes),
          startedAtMs: Number(r.started_at_ms),
          durationMs: Number(r.duration_ms),
          concurrentAtStart: Number(r.concurrent_at_start),
          outcome: String(r.outcome),
        };
      }
      if (rows.length < PAGE_ROWS) return;
      lastStarted = Number(rows[rows.length - 1]!.started_at_ms);
      lastSeq = Number(rows[rows.length - 1]!.seq);
    }
  }

  async resultSpan(filter: ResultFilter = {}): Promise<ResultSpan> {
    return this.run('reading', () => analysis.resultSpan(this.pool, analysis.filterSql(filter)));
  }

  /** A server-side cursor: PostgreSQL groups and sorts, a few clients cross at a time. */
  async *clientMeasurements(filter: ResultFilter = {}): AsyncIterable<ClientMeasurements> {
    const { where, params } = analysis.filterSql(filter);
    const client = await this.run('reading', () => this.pool.connect());
    let failed: unknown;
    let open = false;
    try {
      await this.run('reading', async () => {
        await client.query('BEGIN READ ONLY');
        open = true;
        await client.query(`DECLARE np_clients NO SCROLL CURSOR FOR ${analysis.CLIENT_MEASUREMENTS_SQL(where)}`, params);
      });
      for (;;) {
        const { rows } = await this.run('reading', () => client.query<analysis.ClientRow>(`FETCH ${CLIENTS_PER_FETCH} FROM np_clients`));
        for (const row of rows) yield analysis.toClientMeasurements(row);
        if (rows.length < CLIENTS_PER_FETCH) break;
      }
    } catch (err) {
      failed = err;
      throw err;
    } finally {
      // Also when the consumer stops early: the transaction ends and the connection goes back.
      if (open) await client.query(failed === undefined ? 'COMMIT' : 'ROLLBACK').catch((err: unknown) => (failed ??= err));
      client.release(failed instanceof Error ? failed : undefined);
    }
  }

  async localTimeProfile(filter: ResultFilter, query: ProfileQuery): Promise<LocalTimeProfile> {
    return this.run('reading', () => analysis.localTimeProfile(this.pool, filter, query));
  }

  async serverLoad(windows: readonly TimeWindow[]): Promise<ServerLoad[]> {
    return this.run('reading', () => analysis.serverLoad(this.pool, windows));
  }

  async lastSeenBefore(beforeMs: number, clients?: readonly string[]): Promise<ClientLastSeen[]> {
    return this.run('reading', () => analysis.lastSeenBefore(this.pool, beforeMs, clients));
  }

  async prune(beforeMs: number): Promise<PruneOutcome> {
    return this.run('pruning', () => this.partitions.prune(beforeMs));
  }

  async importBatch(batch: ImportBatch): Promise<InsertOutcome> {
    const prepared = prepareResults([batch.results]);
    return this.run('importing', () =>
      this.writing(prepared.startedAtMs, async () => {
        const client = await this.pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = prepared.query ? await client.query<{ id: string }>(prepared.query) : { rows: [] };
          if (batch.transfers.length > 0) await client.query(transferInsert(batch.transfers));
          await client.query(
            'INSERT INTO import_progress (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
            [batch.progress.key, batch.progress.value],
          );
          await client.query('COMMIT');
          return prepared.outcomes(rows.map((r) => r.id))[0]!;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      }),
    );
  }

  async importProgress(key: string): Promise<string | null> {
    return this.run('reading', async () => {
      const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM import_progress WHERE key = $1', [key]);
      return rows[0]?.value ?? null;
    });
  }

  async checkWritable(): Promise<void> {
    const { rows } = await this.run('checking the store is writable', () =>
      this.pool.query<{ ro: string }>("SELECT current_setting('transaction_read_only') AS ro"),
    );
    if (rows[0]?.ro !== 'off') throw new StorageError(`the PostgreSQL store ${this.location} is read-only (a standby?)`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
