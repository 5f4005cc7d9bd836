/**
 * Decoder + parser fuzz. Reproduce a failure with the printed seed:
 *   NETPROBE_FUZZ_SEED=<seed> node --import tsx --test test/protocol/fuzz.test.ts
 * NETPROBE_FUZZ_CASES overrides the number of cases; NETPROBE_FUZZ_CASE=<index> replays one case.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProtocolError } from '../../src/errors.js';
import { FrameDecoder, FrameType, HEADER_BYTES, type Message, encodeMessage, parseMessage } from '../../src/protocol/index.js';
import { Rand, type Strategy, chunkify, fuzzInput } from './fuzz-gen.js';
import { byteChunks, decodeChunks, fixtureMessages, mulberry32 } from './helpers.js';

const SEED = Number(process.env.NETPROBE_FUZZ_SEED ?? 0x6e70_0001) >>> 0;
const CASES = Number(process.env.NETPROBE_FUZZ_CASES ?? 100_000);
const ONLY_CASE = process.env.NETPROBE_FUZZ_CASE === undefined ? undefined : Number(process.env.NETPROBE_FUZZ_CASE);
const MAX_FRAME_BYTES = 64 * 1024;

/** Independent PRNG per case so one case can be replayed from (seed, index). */
function caseRand(seed: number, index: number): Rand {
  return new Rand(mulberry32((seed ^ Math.imul(index + 1, 0x9e37_79b9)) >>> 0));
}

/** encode(parse(x)) is a fixed point: re-encoding a parsed message and parsing it again changes nothing. */
function assertStable(message: Message): void {
  const encoded = encodeMessage(message);
  const again = parseMessage({ kind: 'frame', type: FrameType[message.type], payload: encoded.subarray(HEADER_BYTES) });
  assert.ok(encodeMessage(again).equals(encoded), `${message.type} is not stable under encode/parse`);
}

type Outcome = 'ok' | string;

/** Feeds one input to a fresh decoder the way a connection would; returns 'ok' or the error code. */
function runCase(chunks: Buffer[]): Outcome {
  const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
  try {
    for (const chunk of chunks) {
      const bound = MAX_FRAME_BYTES + HEADER_BYTES + chunk.length;
      for (const item of decoder.push(chunk)) {
        assert.ok(decoder.bufferedBytes <= bound, `bufferedBytes ${decoder.bufferedBytes} > ${bound}`);
        if (item.kind !== 'frame') continue;
        assert.ok(item.payload.length <= MAX_FRAME_BYTES, `frame of ${item.payload.length} bytes passed the limit`);
        const message = parseMessage(item);
        assertStable(message);
        if (message.type === 'FILE_META' && message.mode === 'file') decoder.expectRaw(message.sizeBytes);
      }
      assert.ok(decoder.bufferedBytes <= bound, `bufferedBytes ${decoder.bufferedBytes} > ${bound}`);
    }
    decoder.end();
    return 'ok';
  } catch (err) {
    if (err instanceof ProtocolError && err.code.startsWith('NETPROBE_')) {
      // A framing error leaves the decoder failed: the next push rethrows the same error.
      const framing = err.code === 'NETPROBE_FRAME_TOO_LARGE' || err.code === 'NETPROBE_UNKNOWN_TYPE';
      if (framing && rethrownOnNextPush(decoder) !== err) throw new Error(`decoder did not stay failed after ${err.code}`);
      return err.code;
    }
    throw err;
  }
}

function rethrownOnNextPush(decoder: FrameDecoder): unknown {
  try {
    Array.from(decoder.push(Buffer.from([FrameType.PING, 0, 0, 0, 2, 0x7b, 0x7d])));
  } catch (err) {
    return err;
  }
  return undefined;
}

test(`fuzz: ${CASES} random and mutated frames (seed ${SEED})`, (t) => {
  const first = ONLY_CASE ?? 0;
  const last = ONLY_CASE ?? CASES - 1;
  const heapBefore = process.memoryUsage().heapUsed;
  const outcomes = new Map<string, number>();
  const byStrategy = new Map<Strategy, number>();
  const started = performance.now();
  for (let i = first; i <= last; i++) {
    const rand = caseRand(SEED, i);
    const { strategy, bytes } = fuzzInput(rand);
    const chunks = chunkify(rand, bytes);
    let outcome: Outcome;
    try {
      outcome = runCase(chunks);
    } catch (err) {
      const hex = bytes.subarray(0, 256).toString('hex');
      assert.fail(
        `fuzz case failed: seed ${SEED} case ${i} strategy ${strategy}, ${bytes.length} bytes in ${chunks.length} chunks\n` +
          `input (first 256 bytes): ${hex}\n` +
          `error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome === 'ok') byStrategy.set(strategy, (byStrategy.get(strategy) ?? 0) + 1);
  }
  const elapsedMs = performance.now() - started;
  const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  t.diagnostic(`seed ${SEED}, cases ${first}..${last} in ${Math.round(elapsedMs)} ms, heap +${heapGrowthMb.toFixed(1)} MB`);
  t.diagnostic(`outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
  t.diagnostic(`accepted by strategy ${JSON.stringify(Object.fromEntries(byStrategy))}`);

  assert.ok(heapGrowthMb < 200, `heap grew by ${heapGrowthMb.toFixed(1)} MB`);
  // The generators must reach every layer, or the fuzz proves little.
  if (ONLY_CASE === undefined && CASES >= 10_000) {
    for (const code of ['ok', 'NETPROBE_FRAME_TOO_LARGE', 'NETPROBE_UNKNOWN_TYPE', 'NETPROBE_PROTOCOL', 'NETPROBE_BAD_PAYLOAD']) {
      assert.ok((outcomes.get(code) ?? 0) > CASES / 1000, `too few '${code}' outcomes: ${outcomes.get(code) ?? 0}`);
    }
  }
});

test('fuzz: valid streams of random messages and file bytes, random chunking', () => {
  const seed = SEED ^ 0x5157;
  for (let i = 0; i < 2_000; i++) {
    const rand = caseRand(seed, i);
    const expected: Message[] = [];
    const parts: Buffer[] = [];
    const files: Buffer[] = [];
    let largestFrame = 0;
    for (let n = rand.range(1, 8); n > 0; n--) {
      if (rand.bool(0.25)) {
        const file = rand.bytes(rand.bool(0.2) ? 0 : rand.range(1, 3000));
        const meta: Message = { type: 'FILE_META', name: 'f.bin', sizeBytes: file.length, sha256: null, mode: 'file' };
        expected.push(meta);
        const frame = encodeMessage(meta);
        largestFrame = Math.max(largestFrame, frame.length);
        parts.push(frame, file);
        files.push(file);
      } else {
        const message = rand.pick(fixtureMessages.filter((m) => !(m.type === 'FILE_META' && m.mode === 'file')));
        const frame = encodeMessage(message);
        largestFrame = Math.max(largestFrame, frame.length);
        expected.push(message);
        parts.push(frame);
      }
    }
    const stream = Buffer.concat(parts);
    const chunks = rand.bool(0.1) && stream.length < 4000 ? [...byteChunks(stream)] : chunkify(rand, stream);
    const { messages, raw } = decodeChunks(chunks, {
      // Between chunks only an incomplete frame is held; file bytes are passed on at once.
      onChunk: (decoder) => assert.ok(decoder.bufferedBytes < largestFrame, `bufferedBytes ${decoder.bufferedBytes}`),
    });
    assert.deepEqual(messages, expected, `seed ${seed} case ${i}`);
    assert.ok(raw.equals(Buffer.concat(files)), `seed ${seed} case ${i}: raw bytes differ`);
  }
});
