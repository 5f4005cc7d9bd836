/**
 * Inputs for the over-TLS fuzz: the protocol fuzzer's random and mutated frames, plus inputs aimed
 * at the server's own checks (results with out-of-range values, NaN, results in the future, names
 * of other clients, huge strings, oversize length fields, server-only message types) and valid
 * frames with values at the edges, which must be answered normally. Deterministic per `Rand`.
 */
import { randomUUID } from 'node:crypto';
import { FrameType, HEADER_BYTES, MAX_LENGTH_FIELD } from '../../src/protocol/frame.js';
import { encodeMessage, type Message } from '../../src/protocol/messages.js';
import { EARLIEST_STARTED_AT_MS, type Result } from '../../src/protocol/result.js';
import { Rand, fuzzInput } from '../protocol/fuzz-gen.js';
import { sampleResult } from '../helpers/wire.js';

export { Rand };

export type InputKind = 'mutated' | 'bad-result' | 'oversize' | 'wrong-type' | 'huge' | 'valid-edge';

export interface FuzzInput {
  kind: InputKind;
  bytes: Buffer;
}

function frame(type: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/** A REPORT whose JSON text is given, so it can carry what JSON.stringify would never write. */
const reportText = (resultsJson: string) => frame(FrameType.REPORT, `{"results":[${resultsJson}]}`);

/** A result's JSON with one field's value replaced by raw JSON text. */
function resultWith(field: keyof Result, rawValue: string): string {
  const text = JSON.stringify({ ...sampleResult(), [field]: '__FUZZ__' });
  return text.replace('"__FUZZ__"', () => rawValue);
}

/** Values no numeric field accepts (NaN, Infinity and null0 are not even JSON; 1e400 parses to Infinity). */
const badNumbers = ['-1', '-0.001', '1e400', '-1e400', 'NaN', 'Infinity', '-Infinity', '1.5e300', '"12"', 'true', '[]', '{}', 'null0'];
/** Each numeric field with values just past its own limits. */
const pastLimits: [keyof Result, string[]][] = [
  ['connectMs', ['86400001']],
  ['tlsMs', ['86400000.5']],
  ['responseMs', ['86400001']],
  ['downloadMs', ['1e9']],
  ['transferMs', ['86400001']],
  ['cpuMs', ['86400001']],
  ['throughputMbps', ['1000001']],
  ['goodputMbps', ['1000000.01']],
  ['bytes', ['9007199254740993', '0.5']],
  ['busyRetries', ['1000001', '0.5']],
];

/** Each string field with values its schema refuses. */
const badStrings: [keyof Result, string[]][] = [
  ['id', ['""', '"not-a-uuid"', '123', 'null', '"01890a5d-ac96-774b-bcce-b302099a805"']],
  ['server', ['""', '123', 'null', `"${'s'.repeat(301)}"`]],
  ['file', ['""', 'null', `"${'f'.repeat(129)}"`]],
  ['cipher', ['123', `"${'c'.repeat(129)}"`, '{}']],
  ['tlsVersion', ['false', `"${'v'.repeat(33)}"`]],
  ['mode', ['"stream"', '""', 'null']],
  ['clientLimited', ['null', '"false"', '0']],
];

let tooMany: Buffer | undefined;
function tooManyResults(): Buffer {
  tooMany ??= reportText(Array.from({ length: 1001 }, () => JSON.stringify(sampleResult())).join(','));
  return tooMany;
}

/** Valid JSON (mostly), invalid result: every one must be refused with nothing stored. */
function badResult(rand: Rand): Buffer {
  switch (rand.int(9)) {
    case 0: {
      const [field, past] = rand.pick(pastLimits);
      return reportText(resultWith(field, rand.bool() ? rand.pick(past) : rand.pick(badNumbers)));
    }
    case 1: {
      // In the future beyond the allowed clock skew.
      const aheadMs = rand.pick([11 * 60_000, 86_400_000, 10 * 365 * 86_400_000]);
      return reportText(JSON.stringify(sampleResult({ startedAt: new Date(Date.now() + aheadMs).toISOString() })));
    }
    case 2:
      return reportText(JSON.stringify(sampleResult({ client: rand.pick(['honest-0', 'someone-else', 'FUZZER', 'fuzzer ', '']) })));
    case 3:
      return reportText(
        resultWith(
          'startedAt',
          rand.pick(['"2025-02-30T00:00:00Z"', '"yesterday"', '0', '"+275760-09-13T00:00:00Z"', '"2025-03-14T15:09:26"']),
        ),
      );
    case 4:
      return reportText(resultWith('samplesMbps', `[${Array(2401).fill('1').join(',')}]`));
    case 5:
      // More results than a REPORT may carry.
      return tooManyResults();
    case 6: {
      const [field, values] = rand.pick(badStrings);
      return reportText(resultWith(field, rand.pick(values)));
    }
    case 7:
      // The same valid result twice in one batch is fine; with a bad twin the whole batch is refused.
      return reportText(`${JSON.stringify(sampleResult())},${resultWith('error', '{"code":"","message":"x"}')}`);
    default:
      return frame(
        FrameType.REPORT,
        rand.pick([
          '{"results":[]}',
          '{"results":{}}',
          '{"results":null}',
          '{}',
          '[]',
          'null',
          `{"results":[${'['.repeat(50_000)}`,
          '{"results":[],"extra":1}',
        ]),
      );
  }
}

function oversize(rand: Rand): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(rand.pick(Object.values(FrameType)), 0);
  header.writeUInt32BE(rand.pick([MAX_LENGTH_FIELD, 2 ** 31, 64 * 1024 * 1024, 1024 * 1024 + 1]), 1);
  // Sometimes a little payload after the lying header.
  return rand.bool() ? header : Buffer.concat([header, rand.bytes(rand.range(1, 512))]);
}

function wrongType(rand: Rand): Buffer {
  const serverOnly: Message[] = [
    {
      type: 'WELCOME',
      version: 1,
      serverId: 'x',
      serverTimeMs: 0,
      capabilities: [],
      maxFrameBytes: 1024,
      maxResultsPerReport: 1,
      files: [],
    },
    { type: 'ACK', ids: [randomUUID()], duplicates: 0 },
    { type: 'BUSY', retryAfterMs: 1, reason: 'x' },
    { type: 'ERROR', code: 'NETPROBE_INTERNAL', message: 'x' },
    { type: 'PONG', seq: 1, serverTimeMs: 0 },
    { type: 'FILE_META', name: '1KiB', sizeBytes: 1024, sha256: null, mode: 'duration' },
    { type: 'DATA_END', bytes: 0 },
    { type: 'DATA', payload: rand.bytes(rand.int(64)) },
    { type: 'HELLO', version: 1, software: 'again', capabilities: [] },
  ];
  if (rand.bool(0.3)) return frame(rand.pick([0x00, 0x0d, 0x0e, 0x7f, 0x80, 0xff]), rand.bytes(rand.int(32)));
  return encodeMessage(rand.pick(serverOnly));
}

/** Frames close to the size limit whose strings are far too long for any field. */
function huge(rand: Rand, maxFrameBytes: number): Buffer {
  const size = rand.range(64 * 1024, maxFrameBytes - 200);
  const text = 'A'.repeat(size);
  return rand.bool()
    ? reportText(resultWith(rand.pick(['server', 'file', 'cipher'] as const), `"${text}"`))
    : frame(FrameType.GET_FILE, `{"name":"${text}"}`);
}

/** Valid frames with values at the edges of what the schema allows: answered, never refused. */
function validEdge(rand: Rand): Buffer {
  const r = rand.next();
  if (r < 0.6) return encodeMessage({ type: 'PING', seq: rand.pick([0, 1, 2 ** 32, Number.MAX_SAFE_INTEGER, rand.int(1e9)]) });
  if (r < 0.7) return encodeMessage({ type: 'GET_FILE', name: '1KiB' });
  // Plausible too (protocol/result.ts implausibility): no start before 2020 or beyond the allowed
  // clock skew, no more bytes than 1 Tbit/s moves in the time claimed (a day, for the most bytes).
  const bytes = rand.pick([0, 2 ** 40]);
  const edge = (): Result =>
    sampleResult({
      startedAt: new Date(rand.pick([Date.now(), EARLIEST_STARTED_AT_MS, Date.now() + 9 * 60_000])).toISOString(),
      connectMs: rand.pick([0, 86_400_000, null]),
      throughputMbps: rand.pick([0, 1_000_000, 1e-300, null]),
      samplesMbps: rand.bool(0.02) ? Array(2400).fill(1_000_000) : [],
      bytes,
      ...(bytes > 0 ? { downloadMs: 86_400_000, transferMs: 86_400_000 } : {}),
      busyRetries: rand.pick([0, 1_000_000]),
      cipher: rand.pick([null, 'c'.repeat(128)]),
      server: rand.pick(['h:1', 's'.repeat(300)]),
      error: rand.bool(0.2) ? { code: 'NETPROBE_TIMEOUT', message: 'm'.repeat(rand.pick([0, 1024])) } : null,
    });
  return encodeMessage({ type: 'REPORT', results: Array.from({ length: rand.range(1, 2) }, edge) });
}

/**
 * Draws one input: hostile with probability `hostileShare` (within it: 2/3 the protocol fuzzer's
 * random and mutated frames, then bad results, wrong types, oversize lengths, a few huge frames),
 * otherwise a valid frame at the edges.
 */
export function nextInput(rand: Rand, maxFrameBytes: number, hostileShare: number): FuzzInput {
  if (!rand.bool(hostileShare)) return { kind: 'valid-edge', bytes: validEdge(rand) };
  const r = rand.next();
  if (r < 0.66) return { kind: 'mutated', bytes: fuzzInput(rand).bytes };
  if (r < 0.88) return { kind: 'bad-result', bytes: badResult(rand) };
  if (r < 0.93) return { kind: 'oversize', bytes: oversize(rand) };
  if (r < 0.99) return { kind: 'wrong-type', bytes: wrongType(rand) };
  return { kind: 'huge', bytes: huge(rand, maxFrameBytes) };
}
