/** Human output of `netprobe client --once`: one aligned table per result. */
import { type Result, directionOf } from '../protocol/result.js';

function ms(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(value < 10 ? 3 : 1)} ms`;
}

function rate(value: number | null): string {
  return value === null ? '-' : `${value.toFixed(value < 10 ? 3 : 1)} Mbit/s`;
}

function bytes(value: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = value;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${v.toFixed(2)} ${units[unit]} (${value} B)`;
}

function spread(samples: readonly number[]): string {
  if (samples.length === 0) return '-';
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return `${samples.length} × 250 ms: min ${at(0).toFixed(1)}, median ${at(0.5).toFixed(1)}, max ${at(1).toFixed(1)} Mbit/s`;
}

/** An RPM as stored (a whole number of round trips per minute), or '-' without probes. */
function rpm(value: number | null | undefined): string {
  return value === null || value === undefined ? '-' : `${Math.round(value)} RPM`;
}

const probes = (n: number): string => `${n} ${n === 1 ? 'probe' : 'probes'}`;

/**
 * The result's RPM with what it rests on: the foreign and self RPMs it averages (either may be
 * missing: no probe answered, or a server before capability 'self-ping') and their probe counts.
 */
function responsiveness(result: Result): string {
  if (result.rpm === null || result.rpm === undefined) return `-${result.rpmProbes === undefined ? '' : ` (${probes(result.rpmProbes)})`}`;
  // Before 'self-ping' a result has no rpmForeign: its rpm is the foreign RPM.
  const foreignRpm = result.rpmSelfProbes === undefined ? result.rpm : result.rpmForeign;
  const parts = [
    foreignRpm === null || foreignRpm === undefined
      ? 'no foreign probes'
      : `foreign ${rpm(foreignRpm)} of ${probes(result.rpmProbes ?? 0)}`,
  ];
  if (result.rpmSelfProbes !== undefined)
    parts.push(
      result.rpmSelf === null || result.rpmSelf === undefined
        ? 'no self probes'
        : `self ${rpm(result.rpmSelf)} of ${probes(result.rpmSelfProbes)}`,
    );
  return `${rpm(result.rpm)} (${parts.join('; ')})`;
}

/** The sender's kernel RTT and retransmits (capability 'tcp-info'); '-' from a server without it. */
function senderTcp(result: Result): string {
  if (result.tcpRttMs === undefined && result.tcpRetransmits === undefined) return '-';
  const sender = directionOf(result) === 'download' ? "server's" : "client's";
  const retransmits = result.tcpRetransmits ?? null;
  const retransmitted = retransmits === null ? '' : `, ${retransmits} ${retransmits === 1 ? 'retransmit' : 'retransmits'}`;
  return `${ms(result.tcpRttMs ?? null)} (the sending ${sender} kernel${retransmitted})`;
}

function handshake(result: Result): string {
  if (result.tlsMs === null || result.tlsResumed === null || result.tlsResumed === undefined) return ms(result.tlsMs);
  return `${ms(result.tlsMs)} (${result.tlsResumed ? 'resumed session' : 'full handshake'})`;
}

export function formatResultTable(result: Result): string {
  const direction = directionOf(result);
  const rows: [string, string][] = [
    ['result', result.error === null ? 'ok' : `FAILED ${result.error.code}: ${result.error.message}`],
    ['direction', direction === 'download' ? 'download (server → client)' : 'upload (client → server, timed by the server)'],
    ['id', result.id],
    ['server', result.server],
    ['file', `${result.file} (${result.mode} mode)`],
    ['started (UTC)', result.startedAt],
    ['bytes', bytes(result.bytes)],
    ['DNS', ms(result.dnsMs)],
    ['TCP connect', ms(result.connectMs)],
    ['TLS handshake', handshake(result)],
    ['TLS', result.tlsVersion === null ? '-' : `${result.tlsVersion} ${result.cipher ?? ''}`.trim()],
    ['idle RTT', ms(result.idleRttMs)],
    ['response', ms(result.responseMs)],
    [`latency (${direction})`, ms(result.downloadMs)],
    ['transfer', ms(result.transferMs)],
    [
      'throughput',
      `${rate(result.throughputMbps)}${result.streamsMbps === undefined ? '' : ` (${result.streams} streams: ${result.streamsMbps.map((v) => v.toFixed(1)).join(' + ')})`}${result.serverLimited === true ? ' (server-limited)' : ''}`,
    ],
    ['goodput', rate(result.goodputMbps)],
    ['loaded RTT', ms(result.loadedRttMs)],
    ['loaded TCP RTT', senderTcp(result)],
    ['responsiveness', responsiveness(result)],
    ['samples', spread(result.samplesMbps)],
    ['client CPU', result.cpuMs === null ? '-' : `${ms(result.cpuMs)}${result.clientLimited ? ' (client-limited)' : ''}`],
    ['sha256', result.sha256Ok === null ? '-' : result.sha256Ok ? 'ok' : 'MISMATCH'],
    ['busy retries', String(result.busyRetries)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** Column titles of `formatResultLine`, printed once when the scheduled client starts on a terminal. */
export const RESULT_LINE_HEADER = [
  'time (local)'.padEnd(12),
  'direction'.padEnd(9),
  'file'.padEnd(10),
  'throughput'.padStart(14),
  'response'.padStart(10),
  'idle RTT'.padStart(10),
  'loaded RTT'.padStart(10),
  'RPM'.padStart(10),
  'status',
].join('  ');

/**
 * One line per measurement for the scheduled client on a terminal, in the style of iperf3 and ndt7:
 * local time, direction, file, throughput, response time, idle and loaded RTT, RPM, status, and how
 * many results are still waiting in the outbox for the server's ACK.
 */
export function formatResultLine(result: Result, queued: number): string {
  const at = new Date(result.startedAt);
  const time = [at.getHours(), at.getMinutes(), at.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  const status =
    result.error === null
      ? result.sha256Ok === false
        ? 'SHA-256 MISMATCH'
        : 'ok'
      : `FAILED ${result.error.code}: ${result.error.message}`;
  const cells = [
    time.padEnd(12),
    directionOf(result).padEnd(9),
    result.file.padEnd(10),
    rate(result.throughputMbps).padStart(14),
    ms(result.responseMs).padStart(10),
    ms(result.idleRttMs).padStart(10),
    ms(result.loadedRttMs).padStart(10),
    rpm(result.rpm).padStart(10),
    status,
  ];
  return `${cells.join('  ')}${queued > 0 ? `  queued: ${queued}` : ''}`;
}
