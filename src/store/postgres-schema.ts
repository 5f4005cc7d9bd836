import type pg from 'pg';
import { StorageError } from '../errors.js';

/**
 * PostgreSQL schema, versioned like SQLite's (`SQLITE_MIGRATIONS`): entry i migrates from version i
 * to i+1; the version lives in `netprobe_schema`. Columns, units and representations follow SQLite
 * (times are integer ms since the epoch, durations ms, rates Mbit/s, samples as JSON text) so both
 * stores answer the same queries with the same values.
 *
 * `results` is partitioned by month of `started_at_ms` (docs/storage.md). A primary key on a
 * partitioned table must contain the partition key, so id uniqueness is kept by `result_ids`, a
 * plain table written in the same statement as the result (see postgres-ingest.ts).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE result_ids (
    id uuid PRIMARY KEY,
    started_at_ms bigint NOT NULL
  );
  CREATE TABLE results (
    id uuid NOT NULL,
    client text COLLATE "C" NOT NULL,
    server text NOT NULL,
    file text NOT NULL,
    mode text NOT NULL,
    started_at_ms bigint NOT NULL,
    received_at_ms bigint NOT NULL,
    bytes bigint NOT NULL,
    dns_ms float8, connect_ms float8, tls_ms float8, idle_rtt_ms float8,
    response_ms float8, download_ms float8, transfer_ms float8,
    throughput_mbps float8, goodput_mbps float8, loaded_rtt_ms float8,
    samples_mbps text NOT NULL,
    cpu_ms float8,
    client_limited boolean NOT NULL,
    sha256_ok boolean,
    tls_version text, cipher text,
    busy_retries integer NOT NULL,
    error_code text, error_message text,
    server_concurrent_transfers integer,
    server_outbound_mbps float8
  ) PARTITION BY RANGE (started_at_ms);
  CREATE INDEX results_started ON results (started_at_ms, id);
  CREATE INDEX results_client_started ON results (client, started_at_ms);
  CREATE TABLE transfers (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client text COLLATE "C" NOT NULL,
    file text NOT NULL,
    mode text NOT NULL,
    bytes bigint NOT NULL,
    started_at_ms bigint NOT NULL,
    duration_ms float8 NOT NULL,
    concurrent_at_start integer NOT NULL,
    outcome text NOT NULL
  );
  CREATE INDEX transfers_started ON transfers (started_at_ms, seq);
  CREATE TABLE import_progress (
    key text PRIMARY KEY,
    value text NOT NULL
  );
  `,
  // 2: upload (protocol capability 'upload'): which way the payload flowed; rows before it are downloads.
  `
  ALTER TABLE results
    ADD COLUMN direction text NOT NULL DEFAULT 'download' CHECK (direction IN ('download', 'upload')),
    ADD COLUMN server_limited boolean;
  `,
  // 3: responsiveness (RPM) and the number of loaded PINGs behind it; null for older rows.
  `
  ALTER TABLE results ADD COLUMN rpm float8, ADD COLUMN rpm_probes integer;
  `,
  // 4: parallel streams (--streams): how many, and each stream's Mbit/s over the common interval (JSON; null for one stream).
  `
  ALTER TABLE results ADD COLUMN streams integer NOT NULL DEFAULT 1, ADD COLUMN streams_mbps text;
  `,
  // 5: the measured connection resumed a TLS session (true) or made a full handshake (false); null for older rows.
  `
  ALTER TABLE results ADD COLUMN tls_resumed boolean;
  `,
  // 6: responsiveness per probe kind (capability 'self-ping'): foreign and self RPM, self probes; null for older rows.
  `
  ALTER TABLE results ADD COLUMN rpm_foreign float8, ADD COLUMN rpm_self float8, ADD COLUMN rpm_self_probes integer;
  `,
  // 7: the sending TCP's view from its kernel (capability 'tcp-info'): median smoothed RTT, retransmits; null for older rows.
  `
  ALTER TABLE results ADD COLUMN tcp_rtt_ms float8, ADD COLUMN tcp_retransmits integer;
  `,
];

/** Advisory lock keys (pg_advisory_xact_lock): schema changes, partition changes. */
export const LOCK_SCHEMA = 0x6e70_0001;
export const LOCK_PARTITIONS = 0x6e70_0002;

type Queryable = Pick<pg.PoolClient, 'query'>;

async function schemaVersion(db: Queryable): Promise<number> {
  const exists = await db.query<{ t: string | null }>(`SELECT to_regclass('netprobe_schema')::text AS t`);
  if (exists.rows[0]?.t == null) return 0;
  const row = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM netprobe_schema');
  return row.rows[0]?.v ?? 0;
}

function newerError(version: number, display: string): StorageError {
  return new StorageError(
    `store ${display} has schema version ${version}, newer than this netprobe knows (${POSTGRES_MIGRATIONS.length}); upgrade netprobe`,
  );
}

/**
 * Creates the schema when asked for one, then applies the missing migrations, each in its own
 * transaction under an advisory lock: collectors starting together migrate once, the others wait.
 * Refuses a database whose schema is newer than this code.
 */
export async function migratePostgres(client: pg.PoolClient, schema: string | null, display: string): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_SCHEMA]);
    if (schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS netprobe_schema (
      version integer PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const version = await schemaVersion(client);
    if (version > POSTGRES_MIGRATIONS.length) throw newerError(version, display);
    if (version === 0) await refuseForeignTables(client, display);
    for (let v = version; v < POSTGRES_MIGRATIONS.length; v++) {
      await client.query(POSTGRES_MIGRATIONS[v]!);
      await client.query('INSERT INTO netprobe_schema (version) VALUES ($1)', [v + 1]);
    }
    await client.query('COMMIT');
    return POSTGRES_MIGRATIONS.length;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The tables netprobe's migrations create, by name. */
export const NETPROBE_TABLES: readonly string[] = [
  ...new Set(POSTGRES_MIGRATIONS.flatMap((sql) => [...sql.matchAll(/CREATE TABLE (\w+)/g)].map((m) => m[1]!))),
];

/**
 * A schema without netprobe's version table that already holds a table of one of netprobe's names
 * belongs to something else: migrating would fail half-way on "relation already exists" or, worse,
 * write into another program's table. Refused before anything is created (the caller rolls back).
 */
async function refuseForeignTables(db: Queryable, display: string): Promise<void> {
  const found = await db.query<{ name: string; schema: string }>(
    `SELECT table_name AS name, table_schema AS schema FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = ANY($1::text[]) ORDER BY table_name`,
    [NETPROBE_TABLES],
  );
  if (found.rows.length === 0) return;
  const names = found.rows.map((r) => r.name).join(', ');
  throw new StorageError(
    `store ${display} is not a netprobe store: schema "${found.rows[0]!.schema}" already holds ${names} without netprobe's version table; nothing was changed (use an empty schema: add ?schema=netprobe to the URL)`,
  );
}

/** For read-only opens: the schema must be exactly the one this code knows (nothing is changed). */
export async function checkPostgresSchema(client: Queryable, display: string): Promise<void> {
  const version = await schemaVersion(client);
  if (version > POSTGRES_MIGRATIONS.length) throw newerError(version, display);
  if (version < POSTGRES_MIGRATIONS.length) {
    throw new StorageError(
      version === 0
        ? `store ${display} holds no netprobe tables (start a netprobe server on it, or fill it with netprobe store migrate)`
        : `store ${display} has schema version ${version}, older than this netprobe's ${POSTGRES_MIGRATIONS.length}; a netprobe server opening it migrates it`,
    );
  }
}
