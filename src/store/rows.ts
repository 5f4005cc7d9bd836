import { type StoredResult, directionOf } from '../protocol/result.js';

/** Column order of the results table; shared by the SQLite and PostgreSQL stores. */
export const RESULT_COLUMNS = [
  'id',
  'client',
  'server',
  'file',
  'mode',
  'started_at_ms',
  'received_at_ms',
  'bytes',
  'dns_ms',
  'connect_ms',
  'tls_ms',
  'idle_rtt_ms',
  'response_ms',
  'download_ms',
  'transfer_ms',
  'throughput_mbps',
  'goodput_mbps',
  'loaded_rtt_ms',
  'samples_mbps',
  'cpu_ms',
  'client_limited',
  'sha256_ok',
  'tls_version',
  'cipher',
  'busy_retries',
  'error_code',
  'error_message',
  'server_concurrent_transfers',
  'server_outbound_mbps',
  'direction',
  'server_limited',
  'rpm',
  'rpm_probes',
  'streams',
  'streams_mbps',
  'tls_resumed',
  'rpm_foreign',
  'rpm_self',
  'rpm_self_probes',
  'tcp_rtt_ms',
  'tcp_retransmits',
] as const;

export type ResultRow = Record<(typeof RESULT_COLUMNS)[number], string | number | null>;

const boolToInt = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);

/**
 * toRow's values in RESULT_COLUMNS order, for positional parameters: better-sqlite3 binds a named
 * parameter by a property lookup through V8's C++ API: with 43 of them per row, the top symbol of a
 * perf profile of SQLite ingest, ~1.4 µs a row (docs/profiling.md).
 */
export function toValues(r: StoredResult): (string | number | null)[] {
  const row = toRow(r);
  return RESULT_COLUMNS.map((column) => row[column]);
}

export function toRow(r: StoredResult): ResultRow {
  return {
    id: r.id,
    client: r.client,
    server: r.server,
    file: r.file,
    mode: r.mode,
    started_at_ms: Date.parse(r.startedAt),
    received_at_ms: Date.parse(r.receivedAt),
    bytes: r.bytes,
    dns_ms: r.dnsMs,
    connect_ms: r.connectMs,
    tls_ms: r.tlsMs,
    idle_rtt_ms: r.idleRttMs,
    response_ms: r.responseMs,
    download_ms: r.downloadMs,
    transfer_ms: r.transferMs,
    throughput_mbps: r.throughputMbps,
    goodput_mbps: r.goodputMbps,
    loaded_rtt_ms: r.loadedRttMs,
    samples_mbps: JSON.stringify(r.samplesMbps),
    cpu_ms: r.cpuMs,
    client_limited: boolToInt(r.clientLimited),
    sha256_ok: boolToInt(r.sha256Ok),
    tls_version: r.tlsVersion,
    cipher: r.cipher,
    busy_retries: r.busyRetries,
    error_code: r.error?.code ?? null,
    error_message: r.error?.message ?? null,
    server_concurrent_transfers: r.serverConcurrentTransfers,
    server_outbound_mbps: r.serverOutboundMbps,
    direction: directionOf(r),
    server_limited: boolToInt(r.serverLimited ?? null),
    rpm: r.rpm ?? null,
    rpm_probes: r.rpmProbes ?? null,
    streams: r.streams ?? 1,
    streams_mbps: r.streamsMbps === undefined ? null : JSON.stringify(r.streamsMbps),
    tls_resumed: boolToInt(r.tlsResumed ?? null),
    rpm_foreign: r.rpmForeign ?? null,
    rpm_self: r.rpmSelf ?? null,
    rpm_self_probes: r.rpmSelfProbes ?? null,
    tcp_rtt_ms: r.tcpRttMs ?? null,
    tcp_retransmits: r.tcpRetransmits ?? null,
  };
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function fromRow(row: Record<string, unknown>): StoredResult {
  const errorCode = str(row.error_code);
  const sha = num(row.sha256_ok);
  const serverLimited = row.server_limited === true ? 1 : row.server_limited === false ? 0 : num(row.server_limited);
  const tlsResumed = row.tls_resumed === true ? 1 : row.tls_resumed === false ? 0 : num(row.tls_resumed);
  return {
    id: String(row.id),
    client: String(row.client),
    server: String(row.server),
    file: String(row.file),
    mode: row.mode === 'duration' ? 'duration' : 'file',
    startedAt: new Date(Number(row.started_at_ms)).toISOString(),
    receivedAt: new Date(Number(row.received_at_ms)).toISOString(),
    bytes: Number(row.bytes),
    dnsMs: num(row.dns_ms),
    connectMs: num(row.connect_ms),
    tlsMs: num(row.tls_ms),
    idleRttMs: num(row.idle_rtt_ms),
    responseMs: num(row.response_ms),
    downloadMs: num(row.download_ms),
    transferMs: num(row.transfer_ms),
    throughputMbps: num(row.throughput_mbps),
    goodputMbps: num(row.goodput_mbps),
    loadedRttMs: num(row.loaded_rtt_ms),
    samplesMbps: JSON.parse(String(row.samples_mbps ?? '[]')) as number[],
    cpuMs: num(row.cpu_ms),
    clientLimited: Number(row.client_limited) === 1,
    sha256Ok: sha === null ? null : sha === 1,
    tlsVersion: str(row.tls_version),
    cipher: str(row.cipher),
    busyRetries: Number(row.busy_retries),
    error: errorCode === null ? null : { code: errorCode, message: str(row.error_message) ?? '' },
    serverConcurrentTransfers: num(row.server_concurrent_transfers),
    serverOutboundMbps: num(row.server_outbound_mbps),
    ...(row.rpm_probes === null || row.rpm_probes === undefined ? {} : { rpm: num(row.rpm), rpmProbes: Number(row.rpm_probes) }),
    ...(row.streams_mbps === null || row.streams_mbps === undefined
      ? {}
      : { streams: Number(row.streams), streamsMbps: JSON.parse(String(row.streams_mbps)) as number[] }),
    ...(tlsResumed === null ? {} : { tlsResumed: tlsResumed === 1 }),
    ...(row.rpm_self_probes === null || row.rpm_self_probes === undefined
      ? {}
      : { rpmForeign: num(row.rpm_foreign), rpmSelf: num(row.rpm_self), rpmSelfProbes: Number(row.rpm_self_probes) }),
    ...((row.tcp_rtt_ms ?? null) === null && (row.tcp_retransmits ?? null) === null
      ? {}
      : { tcpRttMs: num(row.tcp_rtt_ms), tcpRetransmits: num(row.tcp_retransmits) }),
    ...(row.direction === 'upload'
      ? { direction: 'upload' as const, serverLimited: serverLimited === null ? null : serverLimited === 1 }
      : {}),
  };
}
