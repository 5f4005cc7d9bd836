import type { StoredResult } from '../protocol/result.js';
import { RESULT_COLUMNS, type ResultRow, toRow } from './rows.js';
import type { InsertOutcome, TransferRecord } from './types.js';

/**
 * Write statements of the PostgreSQL store. Rows travel as one array per column (`unnest`), so a
 * batch of any size is one statement with a fixed number of parameters.
 */

/** PostgreSQL type of each column of RESULT_COLUMNS, in that order. */
const RESULT_TYPES: Record<(typeof RESULT_COLUMNS)[number], string> = {
  id: 'uuid',
  client: 'text',
  server: 'text',
  file: 'text',
  mode: 'text',
  started_at_ms: 'int8',
  received_at_ms: 'int8',
  bytes: 'int8',
  dns_ms: 'float8',
  connect_ms: 'float8',
  tls_ms: 'float8',
  idle_rtt_ms: 'float8',
  response_ms: 'float8',
  download_ms: 'float8',
  transfer_ms: 'float8',
  throughput_mbps: 'float8',
  goodput_mbps: 'float8',
  loaded_rtt_ms: 'float8',
  samples_mbps: 'text',
  cpu_ms: 'float8',
  client_limited: 'bool',
  sha256_ok: 'bool',
  tls_version: 'text',
  cipher: 'text',
  busy_retries: 'int4',
  error_code: 'text',
  error_message: 'text',
  server_concurrent_transfers: 'int4',
  server_outbound_mbps: 'float8',
  direction: 'text',
  server_limited: 'bool',
  rpm: 'float8',
  rpm_probes: 'int4',
  streams: 'int4',
  streams_mbps: 'text',
  tls_resumed: 'bool',
  rpm_foreign: 'float8',
  rpm_self: 'float8',
  rpm_self_probes: 'int4',
  tcp_rtt_ms: 'float8',
  tcp_retransmits: 'int4',
};

const COLUMN_LIST = RESULT_COLUMNS.join(', ');
const UNNEST = RESULT_COLUMNS.map((c, i) => `$${i + 1}::${RESULT_TYPES[c]}[]`).join(', ');

/**
 * One statement: the ids go into `result_ids` (the uniqueness the partitioned table cannot have),
 * and only the rows whose id was new go into `results`. Two collectors storing the same id at once
 * serialise on its `result_ids` key; the second finds it and stores nothing.
 */
const INSERT_RESULTS = `
  WITH input AS (SELECT * FROM unnest(${UNNEST}) AS t(${COLUMN_LIST})),
  fresh AS (
    INSERT INTO result_ids (id, started_at_ms) SELECT id, started_at_ms FROM input
    ON CONFLICT (id) DO NOTHING RETURNING id
  )
  INSERT INTO results (${COLUMN_LIST}) SELECT input.* FROM input JOIN fresh USING (id)
  RETURNING id`;

const toBool = (v: string | number | null): boolean | null => (v === null ? null : v === 1);

export interface PreparedResults {
  /** The statement, or null when there is nothing to write. */
  query: { text: string; values: unknown[] } | null;
  /** UTC months (postgres-partitions.ts) the rows fall in. */
  startedAtMs: number[];
  /** Counts the stored ids per batch (the statement's RETURNING rows), as SQLite would. */
  outcomes(insertedIds: readonly string[]): InsertOutcome[];
}

/**
 * The first occurrence of each id (batches in order) is the one that may be stored, as in SQLite;
 * later ones are duplicates of it. Rows are sent sorted by id so that concurrent transactions take
 * the `result_ids` locks in one order and never deadlock.
 */
export function prepareResults(batches: readonly (readonly StoredResult[])[]): PreparedResults {
  const owner = new Map<string, number>();
  const rows: ResultRow[] = [];
  batches.forEach((batch, b) => {
    for (const r of batch) {
      const id = r.id.toLowerCase();
      if (owner.has(id)) continue;
      owner.set(id, b);
      rows.push({ ...toRow(r), id });
    }
  });
  rows.sort((x, y) => (x.id! < y.id! ? -1 : x.id! > y.id! ? 1 : 0));
  const values = RESULT_COLUMNS.map((c) =>
    c === 'client_limited' || c === 'sha256_ok' || c === 'server_limited' ? rows.map((r) => toBool(r[c])) : rows.map((r) => r[c]),
  );
  return {
    query: rows.length > 0 ? { text: INSERT_RESULTS, values } : null,
    startedAtMs: rows.map((r) => Number(r.started_at_ms)),
    outcomes(insertedIds) {
      const inserted = batches.map(() => 0);
      for (const id of insertedIds) inserted[owner.get(id)!]!++;
      return batches.map((batch, b) => ({ inserted: inserted[b]!, duplicates: batch.length - inserted[b]! }));
    },
  };
}

export function transferInsert(transfers: readonly TransferRecord[]): { text: string; values: unknown[] } {
  const column = <K extends keyof TransferRecord>(k: K) => transfers.map((t) => t[k]);
  return {
    text: `INSERT INTO transfers (client, file, mode, bytes, started_at_ms, duration_ms, concurrent_at_start, outcome)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::float8[], $7::int4[], $8::text[])`,
    values: [
      column('client'),
      column('file'),
      column('mode'),
      column('bytes'),
      column('startedAtMs'),
      column('durationMs'),
      column('concurrentAtStart'),
      column('outcome'),
    ],
  };
}
