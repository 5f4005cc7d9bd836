import type Database from 'better-sqlite3';
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
import { percentileSelect } from './quantile.js';
import { registerAggregates, unpack, unpackValues2 } from './sqlite-aggregates.js';

/**
 * The analysis read queries on SQLite (src/store/analysis-types.ts has the contract). Results reach
 * JavaScript one group at a time through the aggregates of sqlite-aggregates.ts.
 */

export interface WhereSql {
  where: string;
  params: unknown[];
}

const HOUR_MS = 3_600_000;

export function resultSpan(db: Database.Database, { where, params }: WhereSql): ResultSpan {
  const row = db
    .prepare(`SELECT count(*), min(started_at_ms), max(started_at_ms) FROM results ${where}`)
    .raw()
    .get(...params) as [number, number | null, number | null];
  return { count: row[0], firstMs: row[1], lastMs: row[2] };
}

const compareNaNFirst = (a: number, b: number): number => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b);

/** Puts the columns in the documented canonical order (SQLite's GROUP BY does not keep one). */
function canonicalOrder(m: ClientMeasurements): ClientMeasurements {
  const keys = [m.startedAtMs, m.failed, m.throughputMbps, m.downloadMs, m.responseMs] as const;
  const compare = (i: number, j: number): number => {
    for (const k of keys) {
      const c = compareNaNFirst(k[i]!, k[j]!);
      if (c !== 0) return c;
    }
    return 0;
  };
  let sorted = true;
  for (let i = 1; i < m.startedAtMs.length && sorted; i++) sorted = compare(i - 1, i) <= 0;
  if (sorted) return m;
  const order = Uint32Array.from({ length: m.startedAtMs.length }, (_, i) => i).sort(compare);
  const permute = <T extends Float64Array | Uint8Array>(c: T): T => c.map((_, i) => c[order[i]!]!) as T;
  return {
    ...m,
    startedAtMs: permute(m.startedAtMs),
    throughputMbps: permute(m.throughputMbps),
    downloadMs: permute(m.downloadMs),
    responseMs: permute(m.responseMs),
    failed: permute(m.failed),
  };
}

type ClientRow = [
  string,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  Buffer,
];

export function* clientMeasurements(db: Database.Database, { where, params }: WhereSql): Generator<ClientMeasurements> {
  registerAggregates(db);
  // `+client` keeps SQLite off the (client, started_at_ms) index: walking it costs one random
  // table read per row, while sorting is sequential.
  const statement = db.prepare(`
    SELECT client, count(*), coalesce(sum(bytes), 0),
      count(idle_rtt_ms), coalesce(sum(idle_rtt_ms), 0), count(loaded_rtt_ms), coalesce(sum(loaded_rtt_ms), 0),
      count(loaded_rtt_ms - idle_rtt_ms), coalesce(sum(loaded_rtt_ms - idle_rtt_ms), 0),
      coalesce(sum(CASE WHEN error_code IS NULL THEN client_limited ELSE 0 END), 0),
      count(server_concurrent_transfers), coalesce(sum(server_concurrent_transfers), 0),
      count(server_outbound_mbps), coalesce(sum(server_outbound_mbps), 0),
      count(CASE WHEN rpm > 0 THEN rpm END), coalesce(sum(CASE WHEN rpm > 0 THEN 1.0 / rpm END), 0),
      count(tcp_rtt_ms), coalesce(sum(tcp_rtt_ms), 0), count(tcp_retransmits), coalesce(sum(tcp_retransmits), 0),
      netprobe_rows(started_at_ms, throughput_mbps, download_ms, response_ms, error_code IS NOT NULL)
    FROM results ${where} GROUP BY +client ORDER BY +client`);
  for (const row of statement.raw().iterate(...params) as IterableIterator<ClientRow>) {
    const { f64, u8 } = unpack(row[20], 4, 1);
    yield canonicalOrder({
      client: row[0],
      results: row[1],
      bytes: row[2],
      idleRttMs: { count: row[3], sum: row[4] },
      loadedRttMs: { count: row[5], sum: row[6] },
      bufferbloatMs: { count: row[7], sum: row[8] },
      clientLimited: row[9],
      serverConcurrentTransfers: { count: row[10], sum: row[11] },
      serverOutboundMbps: { count: row[12], sum: row[13] },
      rpmReciprocal: { count: row[14], sum: row[15] },
      tcpRttMs: { count: row[16], sum: row[17] },
      tcpRetransmits: { count: row[18], sum: row[19] },
      startedAtMs: f64[0]!,
      throughputMbps: f64[1]!,
      downloadMs: f64[2]!,
      responseMs: f64[3]!,
      failed: u8[0]!,
    });
  }
}

/** `CASE` giving the zone's offset for started_at_ms; the values are our own integers, inlined. */
function offsetSql(offsets: readonly UtcOffsetSpan[]): string {
  for (const o of offsets) {
    if (!Number.isSafeInteger(o.fromMs) || !Number.isSafeInteger(o.offsetMs)) throw new RangeError('offsets must be integers');
  }
  if (offsets.length === 0) return '0';
  if (offsets.length === 1) return String(offsets[0]!.offsetMs);
  const whens = offsets.slice(1).map((o, i) => `WHEN started_at_ms < ${o.fromMs} THEN ${offsets[i]!.offsetMs}`);
  return `CASE ${whens.join(' ')} ELSE ${offsets[offsets.length - 1]!.offsetMs} END`;
}

function concat(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

interface GroupValues {
  downloads: number;
  failed: number;
  bytes: number;
  throughput: Float64Array;
  download: Float64Array;
}

function toGroup(g: GroupValues, query: ProfileQuery): ProfileGroup {
  return {
    downloads: g.downloads,
    failed: g.failed,
    bytes: g.bytes,
    throughputMbps: query.throughputPercentiles.map((p) => percentileSelect(g.throughput, p)),
    downloadMs: query.downloadPercentiles.map((p) => percentileSelect(g.download, p)),
  };
}

/** slot = local hour × 7 + (ISO weekday − 1): one sort key, hour-major (1970-01-01 was a Thursday). */
type ProfileRow = [number, number, number, number, Buffer];

export function localTimeProfile(db: Database.Database, { where, params }: WhereSql, query: ProfileQuery): LocalTimeProfile {
  registerAggregates(db);
  const statement = db.prepare(`
    SELECT (lh % 24) * 7 + (lh / 24 + 3) % 7 AS slot, count(*), sum(failed), coalesce(sum(bytes), 0), netprobe_values2(tp, dl)
    FROM (SELECT (started_at_ms + ${offsetSql(query.offsets)}) / ${HOUR_MS} AS lh, error_code IS NOT NULL AS failed, bytes,
            CASE WHEN error_code IS NULL THEN throughput_mbps END AS tp,
            CASE WHEN error_code IS NULL THEN download_ms END AS dl
          FROM results ${where})
    GROUP BY slot ORDER BY slot`);
  const empty = (): GroupValues => ({ downloads: 0, failed: 0, bytes: 0, throughput: new Float64Array(0), download: new Float64Array(0) });
  // Rows arrive hour by hour; only the current hour's values are held, merged from its weekdays.
  const cells = Array.from({ length: 168 }, () => toGroup(empty(), query));
  const hours = Array.from({ length: 24 }, () => toGroup(empty(), query));
  let hour = -1;
  let acc = empty();
  for (const row of statement.raw().iterate(...params) as IterableIterator<ProfileRow>) {
    const [slot, downloads, failed, bytes, values] = row;
    const rowHour = Math.floor(slot / 7);
    const weekday = slot % 7;
    if (rowHour !== hour) {
      if (hour >= 0) hours[hour] = toGroup(acc, query);
      hour = rowHour;
      acc = empty();
    }
    const [throughput, download] = unpackValues2(values);
    const cell: GroupValues = { downloads, failed, bytes, throughput, download };
    cells[weekday * 24 + rowHour] = toGroup(cell, query);
    acc = {
      downloads: acc.downloads + downloads,
      failed: acc.failed + failed,
      bytes: acc.bytes + bytes,
      throughput: concat(acc.throughput, cell.throughput),
      download: concat(acc.download, cell.download),
    };
  }
  if (hour >= 0) hours[hour] = toGroup(acc, query);
  return { hours, weekdayHours: cells };
}

/**
 * One pass over the union of the windows in time order, snapshotting running sums at each window's
 * start (results before it) and end (results up to it): rows are read once however much the
 * windows overlap (a network-wide episode overlaps every client episode in it).
 */
export function serverLoad(db: Database.Database, windows: readonly TimeWindow[]): ServerLoad[] {
  const rows = db.prepare(`
    SELECT started_at_ms, server_concurrent_transfers, server_outbound_mbps
    FROM results WHERE started_at_ms >= ? AND started_at_ms <= ? ORDER BY started_at_ms`);
  // Running sums: results, annotated, Σ concurrency, outbound values, Σ outbound.
  const sums = new Float64Array(5);
  const points = windows
    .flatMap((w, i) => [
      { t: w.fromMs, end: false, i },
      { t: w.toMs, end: true, i },
    ])
    .sort((a, b) => a.t - b.t || Number(a.end) - Number(b.end));
  const before = windows.map(() => new Float64Array(5));
  const upTo = windows.map(() => new Float64Array(5));
  let next = 0;
  const settle = (time: number): void => {
    // A start counts the results before it; an end counts the results at or before it.
    while (next < points.length && (points[next]!.end ? points[next]!.t < time : points[next]!.t <= time)) {
      const p = points[next++]!;
      (p.end ? upTo : before)[p.i]!.set(sums);
    }
  };
  const sorted = [...windows].sort((a, b) => a.fromMs - b.fromMs);
  for (let k = 0; k < sorted.length;) {
    const fromMs = sorted[k]!.fromMs;
    let toMs = sorted[k]!.toMs;
    for (k++; k < sorted.length && sorted[k]!.fromMs <= toMs; k++) toMs = Math.max(toMs, sorted[k]!.toMs);
    for (const [t, concurrent, outbound] of rows.raw().iterate(fromMs, toMs) as IterableIterator<[number, number | null, number | null]>) {
      settle(t);
      sums[0]!++;
      if (concurrent !== null) {
        sums[1]!++;
        sums[2]! += concurrent;
      }
      if (outbound !== null) {
        sums[3]!++;
        sums[4]! += outbound;
      }
    }
  }
  settle(Infinity);
  return windows.map((_, i) => {
    const d = upTo[i]!.map((v, j) => v - before[i]![j]!);
    return {
      results: d[0]!,
      annotated: d[1]!,
      meanConcurrentTransfers: d[1]! > 0 ? d[2]! / d[1]! : null,
      meanOutboundMbps: d[3]! > 0 ? d[4]! / d[3]! : null,
    };
  });
}

export function lastSeenBefore(db: Database.Database, beforeMs: number, clients?: readonly string[]): ClientLastSeen[] {
  const only = clients && clients.length > 0 ? `AND client IN (${clients.map(() => '?').join(',')})` : '';
  const rows = db
    .prepare(`SELECT client, max(started_at_ms) FROM results WHERE started_at_ms < ? ${only} GROUP BY client ORDER BY client`)
    .raw()
    .all(beforeMs, ...(clients ?? [])) as [string, number][];
  return rows.map(([client, lastMs]) => ({ client, lastMs }));
}
