/**
 * Input generators for the decoder fuzz test. Every generator draws only from the `Rand` it is
 * given, so a (seed, case index) pair reproduces one input exactly.
 */
import { FrameType, HEADER_BYTES, type Message, encodeMessage } from '../../src/protocol/index.js';
import { RESULT_ID_A, SHA256_HEX, fixtureMessages, fullResult } from './helpers.js';

export class Rand {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

const typeBytes = Object.values(FrameType);
const jsonFixtures = fixtureMessages.filter((m) => m.type !== 'DATA');
const fixtureFrames = fixtureMessages.map((m) => encodeMessage(m));

/** Field names from every schema plus names that probe prototype handling. */
const keyPool = [
  ...new Set([...jsonFixtures.flatMap((m) => Object.keys(m)), ...Object.keys(fullResult), 'code', 'message']),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'type',
  '',
  'extra',
];

const numberLiterals = [
  '0',
  '-0',
  '1',
  '-1',
  '1.5',
  '-1.5',
  '0.1',
  '1e400',
  '-1e400',
  '1e-400',
  '1E3',
  '1e+21',
  '9007199254740991',
  '9007199254740992',
  '18446744073709551616',
  '4294967296',
  '65535',
  '65536',
  '600000',
  '600001',
  '86400000',
  '86400001',
  '1000000',
  '1000001',
  '2400',
  '1000',
  '1001',
  '0.000001',
  '123456789.123456789',
];
const stringLiterals = [
  '',
  'x',
  'file',
  'duration',
  'TLSv1.3',
  RESULT_ID_A,
  RESULT_ID_A.toUpperCase(),
  '00000000-0000-0000-0000-000000000000',
  'not-a-uuid',
  '2025-03-14T15:09:26.535Z',
  '2025-03-14T15:09:26',
  '2025-02-30T00:00:00Z',
  SHA256_HEX,
  'NaN',
  'Infinity',
  '\u0000',
  '\ud800',
  '\u00fc\u2014',
  '"',
  '\\',
  '<script>',
  'NETPROBE_PROTOCOL',
];
/** Broken fragments for text-level mutation. */
const junk = ['{', '}', '[', ']', ',', ':', '"', '\\', 'nul', 'tru', 'NaN', 'Infinity', '1e400', '-', '.', '\ufeff', '\u0000', ' '];

function jsonString(rand: Rand): string {
  if (rand.bool(0.7)) return JSON.stringify(rand.pick(stringLiterals));
  if (rand.bool(0.1)) return JSON.stringify('s'.repeat(rand.range(100, 3000)));
  let s = '';
  const n = rand.int(12);
  for (let i = 0; i < n; i++) s += String.fromCharCode(rand.bool(0.8) ? rand.range(0x20, 0x7e) : rand.int(0x10000));
  return JSON.stringify(s);
}

/** Random JSON text, mostly well formed, with literals chosen to sit on schema boundaries. */
export function jsonText(rand: Rand, depth = 0): string {
  const kind = depth >= 4 ? rand.int(4) : rand.int(7);
  switch (kind) {
    case 0:
      return rand.bool(0.8) ? rand.pick(numberLiterals) : String(rand.next() * 10 ** rand.range(-3, 20));
    case 1:
      return jsonString(rand);
    case 2:
      return rand.pick(['true', 'false', 'null']);
    case 3:
      return rand.bool(0.5) ? '{}' : '[]';
    case 4: {
      // Rarely a long array of one scalar (sample and result counts sit near 1,000 and 2,400).
      if (rand.bool(0.05)) return `[${Array(rand.range(900, 2600)).fill(rand.pick(numberLiterals)).join(',')}]`;
      return `[${Array.from({ length: rand.int(5) }, () => jsonText(rand, depth + 1)).join(',')}]`;
    }
    default: {
      const n = rand.int(6);
      const fields = Array.from({ length: n }, () => `${JSON.stringify(rand.pick(keyPool))}:${jsonText(rand, depth + 1)}`);
      return `{${fields.join(',')}}`;
    }
  }
}

function frame(type: number, payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

function bodyOf(message: Message): Record<string, unknown> {
  const { type: _type, ...rest } = message;
  return structuredClone(rest) as Record<string, unknown>;
}

/** Replaces, deletes or adds one value somewhere inside a fixture body (objects and arrays). */
function mutateValue(rand: Rand, root: Record<string, unknown>): string {
  const placeholder = '\u0001FUZZ\u0001';
  let node: unknown = root;
  for (let d = 0; d < 4; d++) {
    if (node === null || typeof node !== 'object') break;
    const container = node as Record<string, unknown>;
    const keys = Object.keys(container);
    const stop = keys.length === 0 || rand.bool(0.4);
    const key = keys.length === 0 ? '0' : rand.pick(keys);
    const child = container[key];
    if (stop || child === null || typeof child !== 'object') {
      const action = rand.int(4);
      if (action === 0 && !Array.isArray(container)) delete container[key];
      else if (action === 1 && !Array.isArray(container)) container[rand.pick(keyPool)] = placeholder;
      else container[key] = placeholder;
      break;
    }
    node = child;
  }
  // The placeholder becomes raw JSON text so literals like 1e400 survive.
  return JSON.stringify(root).replace(`"${placeholder}"`, () => jsonText(rand, 2));
}

function mutateText(rand: Rand, text: string): string {
  let s = text;
  const n = rand.range(1, 3);
  for (let i = 0; i < n; i++) {
    const at = rand.int(s.length + 1);
    switch (rand.int(4)) {
      case 0:
        s = s.slice(0, at) + rand.pick(junk) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + rand.range(1, 8));
        break;
      case 2:
        s = s.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, () => rand.pick(numberLiterals));
        break;
      default:
        s = s.slice(0, at);
    }
  }
  return s;
}

function mutateBytes(rand: Rand, input: Buffer): Buffer {
  let buf = Buffer.from(input);
  const n = rand.range(1, 4);
  for (let i = 0; i < n; i++) {
    const at = rand.int(Math.max(1, buf.length));
    switch (rand.int(9)) {
      case 0:
        if (buf.length > 0) buf[at] = buf[at]! ^ (1 << rand.int(8));
        break;
      case 1:
        if (buf.length > 0) buf[at] = rand.bool() ? rand.int(256) : rand.pick([0x00, 0xff, 0x22, 0x7b, 0x7d, 0x2d, 0x39, 0x65]);
        break;
      case 2:
        buf = buf.subarray(0, at);
        break;
      case 3:
        if (buf.length > 0) buf[0] = rand.bool() ? rand.int(256) : rand.pick(typeBytes);
        break;
      case 4:
        if (buf.length >= HEADER_BYTES) {
          const len = buf.readUInt32BE(1);
          const choices = [rand.int(2 ** 32), len + rand.range(-3, 3), 0, 64 * 1024, 64 * 1024 + 1, 0xffff_ffff];
          buf.writeUInt32BE(Math.min(0xffff_ffff, Math.max(0, rand.pick(choices))), 1);
        }
        break;
      case 5:
        buf = Buffer.concat([buf.subarray(0, at), rand.bytes(rand.range(1, 16)), buf.subarray(at)]);
        break;
      case 6:
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + rand.range(1, 16))]);
        break;
      case 7:
        buf = Buffer.concat([buf, rand.pick(fixtureFrames)]);
        break;
      default:
        buf = Buffer.concat([buf, rand.bytes(rand.range(1, 32))]);
    }
  }
  return buf;
}

export type Strategy = 'bytes-mutation' | 'value-mutation' | 'text-mutation' | 'random-json' | 'random-bytes';

/** One fuzz input: usually one frame, sometimes several frames or raw bytes after FILE_META. */
export function fuzzInput(rand: Rand): { strategy: Strategy; bytes: Buffer } {
  const r = rand.next();
  if (r < 0.35) {
    const base = rand.bool(0.8) ? rand.pick(fixtureFrames) : Buffer.concat([rand.pick(fixtureFrames), rand.pick(fixtureFrames)]);
    return { strategy: 'bytes-mutation', bytes: mutateBytes(rand, base) };
  }
  const message = rand.pick(jsonFixtures);
  // Sometimes a body is sent under another type byte.
  const type = rand.bool(0.9) ? FrameType[message.type] : rand.pick(typeBytes);
  if (r < 0.65) return { strategy: 'value-mutation', bytes: frame(type, Buffer.from(mutateValue(rand, bodyOf(message)))) };
  if (r < 0.8) {
    const text = mutateText(rand, JSON.stringify(bodyOf(message)));
    return { strategy: 'text-mutation', bytes: frame(type, Buffer.from(text)) };
  }
  if (r < 0.92) {
    const text = jsonText(rand);
    return { strategy: 'random-json', bytes: frame(rand.pick(typeBytes), Buffer.from(rand.bool(0.8) ? text : mutateText(rand, text))) };
  }
  const bytes = rand.bytes(rand.int(200));
  // Half the time make the header plausible so the payload reaches parseMessage.
  if (rand.bool() && bytes.length >= HEADER_BYTES) {
    bytes[0] = rand.pick(typeBytes);
    bytes.writeUInt32BE(rand.int(bytes.length), 1);
  }
  return { strategy: 'random-bytes', bytes };
}

/** Cuts `bytes` into chunks: whole, two pieces, small random pieces or single bytes. */
export function chunkify(rand: Rand, bytes: Buffer): Buffer[] {
  // Single-byte chunks only for short inputs: they cost one generator run per byte.
  const mode = bytes.length > 2048 ? rand.int(3) : rand.int(4);
  if (mode === 0 || bytes.length === 0) return [bytes];
  if (mode === 1) {
    const at = rand.int(bytes.length + 1);
    return [bytes.subarray(0, at), bytes.subarray(at)];
  }
  const max = mode === 2 ? 64 : 1;
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, rand.range(1, max));
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}
