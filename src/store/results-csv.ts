/**
 * results.csv: one row per stored result, ordered by start time (then id), RFC 4180 with a header
 * row and '\n' line ends. Numbers are the stored values, exactly; times ISO 8601 UTC with
 * milliseconds; booleans `true`/`false`; absent values empty. The per-250 ms samples are left out
 * (up to 2,400 numbers per result; they stay in the store).
 *
 * Text cells come from clients (names, server and file names, error messages), so they are made
 * safe for spreadsheets: quoted when they hold a quote, comma or line break, and prefixed with an
 * apostrophe when they start with = + - @ or a tab/CR, which a spreadsheet would run as a formula
 * (OWASP "CSV injection").
 *
 * This module is the format and the generic path (any store, through iterateResults);
 * sqlite-csv.ts is the SQLite fast path, which must produce the same cells.
 */
import { type StoredResult, directionOf } from '../protocol/result.js';

type Kind = 'text' | 'number' | 'time' | 'bool';

/** [header, kind, the stored result's value, SQLite column]. */
export const RESULT_CSV_COLUMNS: readonly (readonly [string, Kind, (r: StoredResult) => string | number | boolean | null, string])[] = [
  ['id', 'text', (r) => r.id, 'id'],
  ['client', 'text', (r) => r.client, 'client'],
  ['server', 'text', (r) => r.server, 'server'],
  ['file', 'text', (r) => r.file, 'file'],
  ['mode', 'text', (r) => r.mode, 'mode'],
  ['startedAt', 'time', (r) => r.startedAt, 'started_at_ms'],
  ['receivedAt', 'time', (r) => r.receivedAt, 'received_at_ms'],
  ['bytes', 'number', (r) => r.bytes, 'bytes'],
  ['dnsMs', 'number', (r) => r.dnsMs, 'dns_ms'],
  ['connectMs', 'number', (r) => r.connectMs, 'connect_ms'],
  ['tlsMs', 'number', (r) => r.tlsMs, 'tls_ms'],
  ['idleRttMs', 'number', (r) => r.idleRttMs, 'idle_rtt_ms'],
  ['responseMs', 'number', (r) => r.responseMs, 'response_ms'],
  ['downloadMs', 'number', (r) => r.downloadMs, 'download_ms'],
  ['transferMs', 'number', (r) => r.transferMs, 'transfer_ms'],
  ['throughputMbps', 'number', (r) => r.throughputMbps, 'throughput_mbps'],
  ['goodputMbps', 'number', (r) => r.goodputMbps, 'goodput_mbps'],
  ['loadedRttMs', 'number', (r) => r.loadedRttMs, 'loaded_rtt_ms'],
  ['cpuMs', 'number', (r) => r.cpuMs, 'cpu_ms'],
  ['clientLimited', 'bool', (r) => r.clientLimited, 'client_limited'],
  ['sha256Ok', 'bool', (r) => r.sha256Ok, 'sha256_ok'],
  ['tlsVersion', 'text', (r) => r.tlsVersion, 'tls_version'],
  ['cipher', 'text', (r) => r.cipher, 'cipher'],
  ['busyRetries', 'number', (r) => r.busyRetries, 'busy_retries'],
  ['errorCode', 'text', (r) => r.error?.code ?? null, 'error_code'],
  ['errorMessage', 'text', (r) => r.error?.message ?? null, 'error_message'],
  ['serverConcurrentTransfers', 'number', (r) => r.serverConcurrentTransfers, 'server_concurrent_transfers'],
  ['serverOutboundMbps', 'number', (r) => r.serverOutboundMbps, 'server_outbound_mbps'],
  ['direction', 'text', (r) => directionOf(r), 'direction'],
  ['serverLimited', 'bool', (r) => r.serverLimited ?? null, 'server_limited'],
  ['rpm', 'number', (r) => r.rpm ?? null, 'rpm'],
  ['rpmProbes', 'number', (r) => r.rpmProbes ?? null, 'rpm_probes'],
  ['streams', 'number', (r) => r.streams ?? 1, 'streams'],
  ['streamsMbps', 'text', (r) => (r.streamsMbps === undefined ? null : JSON.stringify(r.streamsMbps)), 'streams_mbps'],
  ['tlsResumed', 'bool', (r) => r.tlsResumed ?? null, 'tls_resumed'],
  ['rpmForeign', 'number', (r) => r.rpmForeign ?? null, 'rpm_foreign'],
  ['rpmSelf', 'number', (r) => r.rpmSelf ?? null, 'rpm_self'],
  ['rpmSelfProbes', 'number', (r) => r.rpmSelfProbes ?? null, 'rpm_self_probes'],
  ['tcpRttMs', 'number', (r) => r.tcpRttMs ?? null, 'tcp_rtt_ms'],
  ['tcpRetransmits', 'number', (r) => r.tcpRetransmits ?? null, 'tcp_retransmits'],
];

export const RESULT_CSV_HEADER = `${RESULT_CSV_COLUMNS.map(([name]) => name).join(',')}\n`;

/** First characters a spreadsheet reads as the start of a formula. */
const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'];
const NEEDS_QUOTES = /[",\n\r]/;

/** A text cell: apostrophe before a formula start, quoted when needed. */
export function textCell(value: string): string {
  const guarded = FORMULA_START.includes(value.charAt(0)) ? `'${value}` : value;
  return guarded !== value || NEEDS_QUOTES.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

function cell(kind: Kind, value: string | number | boolean | null): string {
  if (value === null) return '';
  switch (kind) {
    case 'text':
      return textCell(String(value));
    case 'time':
      return new Date(String(value)).toISOString();
    case 'bool':
      return value ? 'true' : 'false';
    case 'number':
      return String(value);
    default: {
      const never: never = kind;
      throw new Error(`unknown cell kind ${String(never)}`);
    }
  }
}

/** One result as a CSV line (with its '\n'). */
export function resultCsvLine(r: StoredResult): string {
  let line = '';
  for (let i = 0; i < RESULT_CSV_COLUMNS.length; i++) {
    const [, kind, get] = RESULT_CSV_COLUMNS[i]!;
    line += (i === 0 ? '' : ',') + cell(kind, get(r));
  }
  return `${line}\n`;
}
