import type pg from 'pg';
import type {
  ClientLastSeen,
  ClientMeasurements,
  LocalTimeProfile,
  ProfileGroup,
  ProfileQuery,
  ResultSpan,
  ServerLoad,
  TimeWindow,
  UtcOffsetSpan,
} from './analysis-types.js';
import type { ResultFilter } from './types.js';

/**
 * The analysis read queries on PostgreSQL (src/store/analysis-types.ts has the contract; the
 * SQLite queries in sqlite-analysis.ts define the values). Grouping, ordering and percentiles run
 * in the database: `percentile_cont` interpolates exactly as `percentileSorted` does
 * (x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]), h = (n − 1)·p).
 */

type Queryable = Pick<pg.PoolClient, 'query'>;

export interface WhereSql {
  where: string;
  params: unknown[];
}

const HOUR_MS = 3_600_000;

/** WHERE clause of a filter; placeholders continue after `params` already bound. */
export function filterSql(filter: ResultFilter, params: unknown[] = []): WhereSql {
  const clauses: string[] = [];
  const bind = (v: unknown) => `$${params.push(v)}`;
  if (filter.sinceMs !== undefined) clauses.push(`started_at_ms >= ${bind(filter.sinceMs)}`);
  if (filter.untilMs !== undefined) clauses.push(`started_at_ms < ${bind(filter.untilMs)}`);
  if (filter.clients && filter.clients.length > 0) clauses.push(`client = ANY(${bind(filter.clients)}::text[])`);
  if (filter.errorCodes !== undefined) clauses.push(`error_code = ANY(${bind(filter.errorCodes)}::text[])`);
  if (filter.excludeErrorCodes && filter.excludeErrorCodes.length > 0) {
    clauses.push(`(error_code IS NULL OR NOT (error_code = ANY(${bind(filter.excludeErrorCodes)}::text[])))`);
  }
  if (filter.direction !== undefined) clauses.push(`direction = ${bind(filter.direction)}`);
  return { where: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export async function resultSpan(db: Queryable, { where, params }: WhereSql): Promise<ResultSpan> {
  const { rows } = await db.query<{ n: number; first: number | null; last: number | null }>(
    `SELECT count(*) AS n, min(started_at_ms) AS first, max(started_at_ms) AS last FROM results ${where}`,
    params,
  );
  const row = rows[0]!;
  return { count: row.n, firstMs: row.first, lastMs: row.last };
}

/**
 * One row per client; the per-result columns travel as one bytea of 33-byte records (four
 * big-endian float8: start, throughput, download, response, NaN when absent; one failed byte) in
 * the canonical order, which PostgreSQL sorts.
 */
export const CLIENT_MEASUREMENTS_SQL = (where: string) => `
  SELECT client, count(*) AS results, coalesce(sum(bytes), 0) AS bytes,
    count(idle_rtt_ms) AS idle_n, coalesce(sum(idle_rtt_ms), 0) AS idle_sum,
    count(loaded_rtt_ms) AS loaded_n, coalesce(sum(loaded_rtt_ms), 0) AS loaded_sum,
    count(loaded_rtt_ms - idle_rtt_ms) AS bloat_n, coalesce(sum(loaded_rtt_ms - idle_rtt_ms), 0) AS bloat_sum,
    count(*) FILTER (WHERE error_code IS NULL AND client_limited) AS client_limited,
    count(server_concurrent_transfers) AS conc_n, coalesce(sum(server_concurrent_transfers), 0) AS conc_sum,
    count(server_outbound_mbps) AS out_n, coalesce(sum(server_outbound_mbps), 0) AS out_sum,
    count(rpm) FILTER (WHERE rpm > 0) AS rpm_n, coalesce(sum(1.0 / rpm) FILTER (WHERE rpm > 0), 0) AS rpm_rsum,
    count(tcp_rtt_ms) AS tcp_rtt_n, coalesce(sum(tcp_rtt_ms), 0) AS tcp_rtt_sum,
    count(tcp_retransmits) AS tcp_retrans_n, coalesce(sum(tcp_retransmits), 0) AS tcp_retrans_sum,
    string_agg(
      float8send(started_at_ms::float8) || float8send(coalesce(throughput_mbps, 'NaN')) ||
      float8send(coalesce(download_ms, 'NaN')) || float8send(coalesce(response_ms, 'NaN')) ||
      CASE WHEN error_code IS NULL THEN '\\x00'::bytea ELSE '\\x01'::bytea END,
      ''::bytea
      ORDER BY started_at_ms, error_code IS NOT NULL, throughput_mbps NULLS FIRST, download_ms NULLS FIRST, response_ms NULLS FIRST
    ) AS packed
  FROM results ${where} GROUP BY client ORDER BY client`;

export interface ClientRow {
  client: string;
  results: number;
  bytes: number;
  idle_n: number;
  idle_sum: number;
  loaded_n: number;
  loaded_sum: number;
  bloat_n: number;
  bloat_sum: number;
  client_limited: number;
  conc_n: number;
  conc_sum: number;
  out_n: number;
  out_sum: number;
  rpm_n: number;
  rpm_rsum: number;
  tcp_rtt_n: number;
  tcp_rtt_sum: number;
  tcp_retrans_n: number;
  tcp_retrans_sum: number;
  packed: Buffer;
}

const RECORD_BYTES = 33;

export function toClientMeasurements(row: ClientRow): ClientMeasurements {
  const n = row.packed.length / RECORD_BYTES;
  const startedAtMs = new Float64Array(n);
  const throughputMbps = new Float64Array(n);
  const downloadMs = new Float64Array(n);
  const responseMs = new Float64Array(n);
  const failed = new Uint8Array(n);
  const b = row.packed;
  for (let i = 0, at = 0; i < n; i++, at += RECORD_BYTES) {
    startedAtMs[i] = b.readDoubleBE(at);
    throughputMbps[i] = b.readDoubleBE(at + 8);
    downloadMs[i] = b.readDoubleBE(at + 16);
    responseMs[i] = b.readDoubleBE(at + 24);
    failed[i] = b[at + 32]!;
  }
  return {
    client: row.client,
    results: row.results,
    bytes: row.bytes,
    clientLimited: row.client_limited,
    idleRttMs: { count: row.idle_n, sum: row.idle_sum },
    loadedRttMs: { count: row.loaded_n, sum: row.loaded_sum },
    bufferbloatMs: { count: row.bloat_n, sum: row.bloat_sum },
    serverConcurrentTransfers: { count: row.conc_n, sum: row.conc_sum },
    serverOutboundMbps: { count: row.out_n, sum: row.out_sum },
    rpmReciprocal: { count: row.rpm_n, sum: row.rpm_rsum },
    tcpRttMs: { count: row.tcp_rtt_n, sum: row.tcp_rtt_sum },
    tcpRetransmits: { count: row.tcp_retrans_n, sum: row.tcp_retrans_sum },
    startedAtMs,
    throughputMbps,
    downloadMs,
    responseMs,
    failed,
  };
}

/** `CASE` giving the zone's offset for started_at_ms (as sqlite-analysis.ts); our own integers, inlined. */
function offsetSql(offsets: readonly UtcOffsetSpan[]): string {
  for (const o of offsets) {
    if (!Number.isSafeInteger(o.fromMs) || !Number.isSafeInteger(o.offsetMs)) throw new RangeError('offsets must be integers');
  }
  if (offsets.length === 0) return '0';
  if (offsets.length === 1) return String(offsets[0]!.offsetMs);
  const whens = offsets.slice(1).map((o, i) => `WHEN started_at_ms < ${o.fromMs} THEN ${offsets[i]!.offsetMs}`);
  return `CASE ${whens.join(' ')} ELSE ${offsets[offsets.length - 1]!.offsetMs} END`;
}

interface ProfileRow {
  hour: number;
  weekday: number | null;
  downloads: number;
  failed: number;
  bytes: number;
  tp: (number | null)[] | null;
  dl: (number | null)[] | null;
}

/**
 * Local hour = ⌊(started_at_ms + offset) / 1 h⌋ mod 24 and ISO weekday from the local day number
 * (1970-01-01 was a Thursday), as in SQLite. GROUPING SETS yields each weekday-hour and each hour
 * (weekday null) in one pass; the percentiles are computed per group by percentile_cont.
 */
export async function localTimeProfile(db: Queryable, filter: ResultFilter, query: ProfileQuery): Promise<LocalTimeProfile> {
  const params: unknown[] = [query.throughputPercentiles, query.downloadPercentiles];
  const { where } = filterSql(filter, params);
  const { rows } = await db.query<ProfileRow>(
    `SELECT hour, weekday, count(*) AS downloads, count(*) FILTER (WHERE failed) AS failed, coalesce(sum(bytes), 0) AS bytes,
       percentile_cont($1::float8[]) WITHIN GROUP (ORDER BY tp) AS tp,
       percentile_cont($2::float8[]) WITHIN GROUP (ORDER BY dl) AS dl
     FROM (SELECT (lh % 24)::int AS hour, ((lh / 24 + 3) % 7)::int AS weekday, failed, bytes, tp, dl
           FROM (SELECT (started_at_ms + ${offsetSql(query.offsets)}) / ${HOUR_MS} AS lh, error_code IS NOT NULL AS failed, bytes,
                   CASE WHEN error_code IS NULL THEN throughput_mbps END AS tp,
                   CASE WHEN error_code IS NULL THEN download_ms END AS dl
                 FROM results ${where}) AS local) AS slots
     GROUP BY GROUPING SETS ((hour, weekday), (hour))`,
    params,
  );
  const group = (r?: ProfileRow): ProfileGroup => ({
    downloads: r?.downloads ?? 0,
    failed: r?.failed ?? 0,
    bytes: r?.bytes ?? 0,
    throughputMbps: query.throughputPercentiles.map((_, i) => r?.tp?.[i] ?? null),
    downloadMs: query.downloadPercentiles.map((_, i) => r?.dl?.[i] ?? null),
  });
  const hours = Array.from({ length: 24 }, () => group());
  const weekdayHours = Array.from({ length: 168 }, () => group());
  for (const r of rows) {
    if (r.weekday === null) hours[r.hour] = group(r);
    else weekdayHours[r.weekday * 24 + r.hour] = group(r);
  }
  return { hours, weekdayHours };
}

/** Per window (closed interval, all clients): counts and means of the server's load annotations. */
export async function serverLoad(db: Queryable, windows: readonly TimeWindow[]): Promise<ServerLoad[]> {
  if (windows.length === 0) return [];
  const { rows } = await db.query<{ results: number; annotated: number; conc_sum: number | null; out_n: number; out_sum: number | null }>(
    `SELECT count(r.started_at_ms) AS results, count(r.server_concurrent_transfers) AS annotated,
       sum(r.server_concurrent_transfers) AS conc_sum, count(r.server_outbound_mbps) AS out_n, sum(r.server_outbound_mbps) AS out_sum
     FROM unnest($1::int8[], $2::int8[]) WITH ORDINALITY AS w(from_ms, to_ms, i)
     LEFT JOIN results r ON r.started_at_ms >= w.from_ms AND r.started_at_ms <= w.to_ms
     GROUP BY w.i ORDER BY w.i`,
    [windows.map((w) => w.fromMs), windows.map((w) => w.toMs)],
  );
  return rows.map((r) => ({
    results: r.results,
    annotated: r.annotated,
    meanConcurrentTransfers: r.annotated > 0 ? r.conc_sum! / r.annotated : null,
    meanOutboundMbps: r.out_n > 0 ? r.out_sum! / r.out_n : null,
  }));
}

export async function lastSeenBefore(db: Queryable, beforeMs: number, clients?: readonly string[]): Promise<ClientLastSeen[]> {
  const only = clients && clients.length > 0;
  const { rows } = await db.query<{ client: string; last: number }>(
    `SELECT client, max(started_at_ms) AS last FROM results WHERE started_at_ms < $1 ${only ? 'AND client = ANY($2::text[])' : ''}
     GROUP BY client ORDER BY client`,
    only ? [beforeMs, clients] : [beforeMs],
  );
  return rows.map((r) => ({ client: r.client, lastMs: r.last }));
}
