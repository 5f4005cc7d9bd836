/**
 * What validating a REPORT costs a worker (issue 18: is a hand-written validator worth having next
 * to the zod schema?). Times, per call, in one process: zod's `resultSchema.safeParse` of one
 * result, `parseMessage` of a one-result REPORT frame (JSON.parse + envelope + result), JSON.parse
 * alone, and parseMessage of the other frames a bench/concurrency.ts measurement sends (HELLO,
 * PING, GET_FILE). A hand-written validator could save at most the zod part.
 *
 *   node --import tsx bench/validation.ts [--calls N]
 *
 * Not part of `npm run bench` (it writes no result): docs/profiling.md quotes it.
 */
import { type Frame, type Message, PROTOCOL_VERSION, encodeMessage, parseMessage, resultSchema } from '../src/protocol/index.js';
import type { Result } from '../src/protocol/result.js';

const i = process.argv.indexOf('--calls');
const CALLS = i < 0 ? 200_000 : Number(process.argv[i + 1]);

/** A result as the current client sends it after a 1 MiB download (every optional field it fills). */
const result: Result = {
  id: '01890a5d-ac96-774b-bcce-b302099a8057',
  client: 'c17',
  server: '127.0.0.1:40123',
  file: '1MiB',
  mode: 'file',
  startedAt: '2026-12-05T20:51:26.535Z',
  bytes: 1_048_576,
  dnsMs: 0,
  connectMs: 0.61,
  tlsMs: 14.2,
  idleRttMs: 0.35,
  responseMs: 1.12,
  downloadMs: 40.4,
  transferMs: 39.2,
  throughputMbps: 214.0,
  goodputMbps: 207.6,
  loadedRttMs: 3.9,
  samplesMbps: [],
  cpuMs: 12.5,
  clientLimited: false,
  sha256Ok: true,
  tlsVersion: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  busyRetries: 0,
  error: null,
  direction: 'download',
  rpm: 15_384.6,
  rpmProbes: 8,
  rpmForeign: 15_384.6,
  rpmSelf: null,
  rpmSelfProbes: 0,
  tlsResumed: false,
};

function frameOf(message: Message): Frame {
  const bytes = encodeMessage(message);
  return { kind: 'frame', type: bytes[0] as Frame['type'], payload: bytes.subarray(5) };
}

function perCallUs(run: () => unknown): number {
  for (let n = 0; n < CALLS / 10; n++) run();
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < CALLS; n++) run();
  return Number(process.hrtime.bigint() - t0) / CALLS / 1000;
}

const report = frameOf({ type: 'REPORT', results: [result] });
const hello = frameOf({
  type: 'HELLO',
  version: PROTOCOL_VERSION,
  software: 'netprobe/1.0.0',
  capabilities: ['duration', 'report', 'upload', 'streams', 'self-ping'],
});
const ping = frameOf({ type: 'PING', seq: 3 });
const getFile = frameOf({ type: 'GET_FILE', name: '1MiB' });
const rows: [string, number][] = [
  ['resultSchema.safeParse (zod), one result', perCallUs(() => resultSchema.safeParse(result))],
  [`parseMessage, REPORT of one result (${report.payload.length} B)`, perCallUs(() => parseMessage(report))],
  ['JSON.parse of that REPORT alone', perCallUs(() => JSON.parse(report.payload.toString('utf8')))],
  ['parseMessage, HELLO', perCallUs(() => parseMessage(hello))],
  ['parseMessage, PING', perCallUs(() => parseMessage(ping))],
  ['parseMessage, GET_FILE', perCallUs(() => parseMessage(getFile))],
];
process.stdout.write(`| what (${CALLS.toLocaleString('en')} calls each) | µs per call |\n| --- | ---: |\n`);
for (const [what, us] of rows) process.stdout.write(`| ${what} | ${us.toFixed(2)} |\n`);
