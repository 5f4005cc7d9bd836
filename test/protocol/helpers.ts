/**
 * Shared fixtures and helpers for the protocol tests: one valid message of every type, a stream
 * consumer that plays the connection's role (calls `expectRaw` after a file-mode FILE_META), and a
 * seeded PRNG so fuzz failures reproduce.
 */
import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/errors.js';
import {
  FrameDecoder,
  FrameType,
  type DecoderOptions,
  type Frame,
  type FrameTypeName,
  type Message,
  type Result,
  encodeMessage,
  parseMessage,
} from '../../src/protocol/index.js';

export const SHA256_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** UUIDv7-shaped ids (version nibble 7, RFC variant). */
export const RESULT_ID_A = '01890a5d-ac96-774b-bcce-b302099a8057';
export const RESULT_ID_B = '0190f3c2-1e4b-7a10-9d3e-5c6b7a8f9e01';

export const fullResult: Result = {
  id: RESULT_ID_A,
  client: 'probe-berlin-01',
  server: 'netprobe.example.net:4443',
  file: '10MiB.bin',
  mode: 'file',
  startedAt: '2025-03-14T15:09:26.535Z',
  bytes: 10_485_760,
  dnsMs: 1.25,
  connectMs: 12.5,
  tlsMs: 24.75,
  idleRttMs: 11.9,
  responseMs: 13.1,
  downloadMs: 850.4,
  transferMs: 837.3,
  throughputMbps: 100.18,
  goodputMbps: 98.64,
  loadedRttMs: 45.2,
  samplesMbps: [88.5, 101.2, 103.9, 99.75],
  cpuMs: 120.5,
  clientLimited: false,
  sha256Ok: true,
  tlsVersion: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  busyRetries: 0,
  error: null,
};

/** A failed duration-mode result: nulls everywhere a phase did not happen, no `client` claim. */
export const failedResult: Result = {
  id: RESULT_ID_B,
  server: '192.0.2.10:4443',
  file: 'stream',
  mode: 'duration',
  startedAt: '2025-03-14T17:09:26.535+02:00',
  bytes: 0,
  dnsMs: null,
  connectMs: 3000,
  tlsMs: null,
  idleRttMs: null,
  responseMs: null,
  downloadMs: null,
  transferMs: null,
  throughputMbps: null,
  goodputMbps: null,
  loadedRttMs: null,
  samplesMbps: [],
  cpuMs: null,
  clientLimited: true,
  sha256Ok: null,
  tlsVersion: null,
  cipher: null,
  busyRetries: 3,
  error: { code: 'NETPROBE_CONNECT_TIMEOUT', message: 'connect to 192.0.2.10:4443 timed out after 3000 ms' },
};

/** Bytes 0..255 then some more, so DATA exercises every byte value. */
const dataPayload = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));

/** One valid message of every type (and both variants where a type has two). Keyed for test names. */
export const fixtures = {
  hello: {
    type: 'HELLO',
    version: 1,
    software: 'netprobe/0.1.0 (Zürich — ü)',
    capabilities: ['duration-mode', 'report'],
  },
  welcome: {
    type: 'WELCOME',
    version: 1,
    serverId: 'collector-1',
    serverTimeMs: 1_741_964_966_535,
    capabilities: ['duration-mode'],
    maxFrameBytes: 4 * 1024 * 1024,
    maxResultsPerReport: 1000,
    files: ['1MiB.bin', '10MiB.bin', '100MiB.bin'],
  },
  ping: { type: 'PING', seq: 42 },
  pong: { type: 'PONG', seq: 42, serverTimeMs: 1_741_964_966_535.25 },
  getFile: { type: 'GET_FILE', name: '10MiB.bin' },
  getFileDuration: { type: 'GET_FILE', name: 'stream', durationMs: 10_000 },
  fileMetaFile: { type: 'FILE_META', name: '10MiB.bin', sizeBytes: 10_485_760, sha256: SHA256_HEX, mode: 'file' },
  fileMetaDuration: { type: 'FILE_META', name: 'stream', sizeBytes: 0, sha256: null, mode: 'duration' },
  data: { type: 'DATA', payload: dataPayload },
  dataEmpty: { type: 'DATA', payload: Buffer.alloc(0) },
  dataEnd: { type: 'DATA_END', bytes: 125_000_000 },
  report: { type: 'REPORT', results: [fullResult, failedResult] },
  ack: { type: 'ACK', ids: [RESULT_ID_A, RESULT_ID_B], duplicates: 1 },
  busy: { type: 'BUSY', retryAfterMs: 5000, reason: 'too many concurrent transfers' },
  error: { type: 'ERROR', code: 'NETPROBE_NOT_FOUND', message: 'no file named "missing.bin"' },
  put: { type: 'PUT', name: '10MiB', durationMs: 10_000 },
  putReady: { type: 'PUT_READY', sizeBytes: 0, maxBytes: 17_179_869_184, maxDurationMs: 15_000 },
  putResult: {
    type: 'PUT_RESULT',
    bytes: 12_500_000,
    transferMs: 1000.25,
    throughputMbps: 99.975,
    samplesMbps: [98.5, 101.25, 100],
    serverLimited: false,
  },
  tcpInfo: { type: 'TCP_INFO', rttMs: 1.234, samples: 87, retransmits: 2 },
} satisfies Record<string, Message>;

export type FixtureName = keyof typeof fixtures;
export const fixtureEntries = Object.entries(fixtures) as [FixtureName, Message][];
export const fixtureMessages: Message[] = fixtureEntries.map(([, m]) => m);
export const fixtureFrames: Buffer[] = fixtureMessages.map((m) => encodeMessage(m));

export interface Collected {
  messages: Message[];
  /** Concatenation of every raw chunk, in order. */
  raw: Buffer;
}

export interface DecodeOptions extends DecoderOptions {
  /** Call `expectRaw` after a file-mode FILE_META (default true); off for streams of bare fixtures. */
  followRaw?: boolean;
  /** Runs after each chunk is fully consumed (for buffer-size checks). */
  onChunk?: (decoder: FrameDecoder, chunk: Buffer) => void;
}

/**
 * Plays the connection: feeds every chunk, parses each frame, and after a file-mode FILE_META
 * calls `expectRaw(sizeBytes)` while the lazy `push` iterator is suspended. Calls `end()`.
 */
export function decodeChunks(chunks: Iterable<Buffer>, options: DecodeOptions = {}): Collected {
  const { followRaw = true, onChunk, ...decoderOptions } = options;
  const decoder = new FrameDecoder(decoderOptions);
  const messages: Message[] = [];
  const raw: Buffer[] = [];
  for (const chunk of chunks) {
    for (const item of decoder.push(chunk)) {
      if (item.kind !== 'frame') {
        raw.push(item.data);
        continue;
      }
      const message = parseMessage(item);
      messages.push(message);
      if (followRaw && message.type === 'FILE_META' && message.mode === 'file') decoder.expectRaw(message.sizeBytes);
    }
    onChunk?.(decoder, chunk);
  }
  decoder.end();
  return { messages, raw: Buffer.concat(raw) };
}

/** `buf` cut at the given offsets (sorted, within bounds); empty pieces are kept. */
export function splitAt(buf: Buffer, offsets: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const offset of offsets) {
    pieces.push(buf.subarray(start, offset));
    start = offset;
  }
  pieces.push(buf.subarray(start));
  return pieces;
}

export function* byteChunks(buf: Buffer): Generator<Buffer> {
  for (let i = 0; i < buf.length; i++) yield buf.subarray(i, i + 1);
}

/** A frame built by hand: type byte, u32 big-endian length, payload. Independent of the encoder. */
export function rawFrame(type: number, payload: Buffer | string, length?: number): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const len = length ?? body.length;
  return Buffer.concat([Buffer.from([type, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]), body]);
}

/** A decoded-frame object for calling parseMessage directly. */
export function frameOf(type: FrameTypeName, payload: string | Buffer): Frame {
  return { kind: 'frame', type: FrameType[type], payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload) };
}

/** Runs `fn`, asserts it throws a ProtocolError with `code`, and returns the error. */
export function expectProtocolError(fn: () => unknown, code: string, message?: string): ProtocolError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown !== undefined, `expected ${code}, nothing was thrown${message ? ` (${message})` : ''}`);
  assert.ok(thrown instanceof ProtocolError, `expected ProtocolError ${code}, got ${String(thrown)}`);
  assert.equal(thrown.code, code, message ?? thrown.message);
  return thrown;
}

export { seededRandom as mulberry32 } from '../../src/sim/random.js';
