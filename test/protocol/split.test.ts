import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProtocolError } from '../../src/errors.js';
import { FrameDecoder, FrameType, type Frame, type Message, encodeMessage, parseMessage } from '../../src/protocol/index.js';
import { type Collected, byteChunks, decodeChunks, fixtureFrames, fixtureMessages, fixtures, mulberry32, splitAt } from './helpers.js';

const stream = Buffer.concat(fixtureFrames);
const largestFrame = Math.max(...fixtureFrames.map((f) => f.length));

/** After a chunk is consumed the decoder holds at most one incomplete frame. */
function holdsOnlyAPartialFrame(decoder: FrameDecoder): void {
  assert.ok(decoder.bufferedBytes < largestFrame, `bufferedBytes ${decoder.bufferedBytes} >= ${largestFrame}`);
}

describe('fixture stream split anywhere', () => {
  // The stream holds a file-mode FILE_META without its file bytes: treat every frame as a frame.
  const bare = { followRaw: false, onChunk: holdsOnlyAPartialFrame };

  test(`two chunks, split at every offset 0..${stream.length}`, () => {
    for (let i = 0; i <= stream.length; i++) {
      const { messages, raw } = decodeChunks(splitAt(stream, [i]), bare);
      assert.deepEqual(messages, fixtureMessages, `split at ${i}`);
      assert.equal(raw.length, 0);
    }
  });

  test('1-byte chunks', () => {
    const { messages } = decodeChunks(byteChunks(stream), bare);
    assert.deepEqual(messages, fixtureMessages);
  });

  test('random chunkings (seeded) including empty chunks', () => {
    const seed = 0x5eed_0001;
    const rand = mulberry32(seed);
    for (let round = 0; round < 300; round++) {
      const cuts: number[] = [];
      let at = 0;
      while (at < stream.length) {
        // Mostly small steps so frames straddle many chunks; sometimes 0 (empty chunk).
        at = Math.min(stream.length, at + Math.floor(rand() ** 3 * 400));
        cuts.push(at);
      }
      const { messages } = decodeChunks(splitAt(stream, cuts), bare);
      assert.deepEqual(messages, fixtureMessages, `seed ${seed} round ${round}`);
    }
  });

  test('frames stay intact after later chunks arrive (no aliasing of buffered bytes)', () => {
    const decoder = new FrameDecoder();
    const frames: Frame[] = [];
    for (const chunk of byteChunks(stream)) {
      for (const item of decoder.push(chunk)) {
        assert.equal(item.kind, 'frame');
        if (item.kind === 'frame') frames.push(item);
      }
    }
    decoder.end();
    assert.deepEqual(frames.map(parseMessage), fixtureMessages);
  });

  test('a frame completed by a chunk that also carries later frames', () => {
    const first = fixtureFrames[0]!;
    const chunks = [first.subarray(0, 3), Buffer.concat([first.subarray(3), ...fixtureFrames.slice(1)])];
    assert.deepEqual(decodeChunks(chunks, bare).messages, fixtureMessages);
  });
});

describe('FILE_META followed by raw bytes', () => {
  const rand = mulberry32(0x0f11e);
  /**
   * Raw bytes that would be a protocol error if read as frames (leading 0xff type byte) and that
   * contain a complete, valid PING frame, so a decoder that ignored expectRaw would be caught.
   */
  function rawBytes(n: number): Buffer {
    const bytes = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.floor(rand() * 256);
    if (n > 0) bytes[0] = 0xff;
    const ping = encodeMessage({ type: 'PING', seq: 7 });
    if (n >= ping.length + 8) ping.copy(bytes, 4);
    return bytes;
  }

  function rawStream(fileBytes: Buffer): { bytes: Buffer; expected: Message[] } {
    const expected: Message[] = [
      fixtures.getFile,
      { type: 'FILE_META', name: '10MiB.bin', sizeBytes: fileBytes.length, sha256: null, mode: 'file' },
      fixtures.ping,
      // An empty file: expectRaw(0), the next frame follows at once.
      { type: 'FILE_META', name: 'empty.bin', sizeBytes: 0, sha256: null, mode: 'file' },
      fixtures.dataEnd,
    ];
    const frames = expected.map((m) => encodeMessage(m));
    const bytes = Buffer.concat([frames[0]!, frames[1]!, fileBytes, ...frames.slice(2)]);
    return { bytes, expected };
  }

  function check(result: Collected, expected: Message[], fileBytes: Buffer, label: string): void {
    assert.deepEqual(result.messages, expected, label);
    assert.ok(result.raw.equals(fileBytes), `${label}: raw bytes differ`);
  }

  for (const n of [1, 5, 300]) {
    test(`${n} raw bytes, split at every offset`, () => {
      const fileBytes = rawBytes(n);
      const { bytes, expected } = rawStream(fileBytes);
      for (let i = 0; i <= bytes.length; i++) {
        check(decodeChunks(splitAt(bytes, [i]), { onChunk: holdsOnlyAPartialFrame }), expected, fileBytes, `split at ${i}`);
      }
      check(decodeChunks(byteChunks(bytes)), expected, fileBytes, '1-byte chunks');
      check(decodeChunks([bytes]), expected, fileBytes, 'one chunk');
    });
  }

  test('32 raw bytes, split at every pair of offsets (three chunks)', () => {
    const fileBytes = rawBytes(32);
    const { bytes, expected } = rawStream(fileBytes);
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        check(decodeChunks(splitAt(bytes, [i, j])), expected, fileBytes, `split at ${i}, ${j}`);
      }
    }
  });

  test('raw bytes are yielded as they arrive, not buffered until complete', () => {
    const fileBytes = rawBytes(1000);
    const decoder = new FrameDecoder();
    const meta = encodeMessage({ type: 'FILE_META', name: 'f', sizeBytes: 1000, sha256: null, mode: 'file' });
    for (const item of decoder.push(meta)) {
      assert.equal(item.kind, 'frame');
      decoder.expectRaw(1000);
    }
    assert.equal(decoder.expectingRaw, 1000);
    const got = [...decoder.push(fileBytes.subarray(0, 400))];
    assert.equal(got.length, 1);
    assert.equal(got[0]!.kind, 'raw');
    assert.equal(decoder.bufferedBytes, 0);
    assert.equal(decoder.expectingRaw, 600);
    const rest = [...decoder.push(fileBytes.subarray(400))];
    assert.equal(decoder.expectingRaw, 0);
    const raw = Buffer.concat([got, rest].flat().map((d) => (d.kind === 'raw' ? d.data : Buffer.alloc(0))));
    assert.ok(raw.equals(fileBytes));
    decoder.end();
  });

  test('expectRaw rejects sizes that are not byte counts', () => {
    const decoder = new FrameDecoder();
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => decoder.expectRaw(bad), RangeError, String(bad));
    }
  });
});

describe('chunks in one reused buffer (the client reads through node onread)', () => {
  /** Feeds `stream` through a single buffer overwritten by every read, as the client does. */
  function decodeThroughOneBuffer(chunkBytes: number, detach: boolean): Message[] {
    const decoder = new FrameDecoder();
    const shared = Buffer.alloc(chunkBytes);
    const messages: Message[] = [];
    for (let at = 0; at < stream.length; at += chunkBytes) {
      const n = stream.copy(shared, 0, at, at + chunkBytes);
      const chunk = shared.subarray(0, n);
      for (const item of decoder.push(chunk)) {
        // Like the client, use a DATA payload before the read returns (here: copy it).
        const m = parseMessage(item as Frame);
        messages.push(m.type === 'DATA' ? { ...m, payload: Buffer.from(m.payload) } : m);
      }
      if (detach) decoder.detach(chunk);
      // The next read overwrites the memory: scribble over it now to make any kept slice visible.
      shared.fill(0xee);
    }
    return messages;
  }

  test('detach() after each push: every message decodes as sent, at every chunk size', () => {
    for (const size of [1, 2, 3, 5, 7, 16, 64, 1000])
      assert.deepEqual(decodeThroughOneBuffer(size, true), fixtureMessages, `chunks of ${size}`);
  });

  test('without detach() a reused buffer corrupts partial frames (what detach() is for)', () => {
    assert.throws(() => assert.deepEqual(decodeThroughOneBuffer(7, false), fixtureMessages));
  });
});

describe('streamed DATA payloads (an upload on the server: streamPayloads)', () => {
  const rand = mulberry32(0xda7a);
  const payloads = [
    Buffer.from(Array.from({ length: 1000 }, () => Math.floor(rand() * 256))),
    Buffer.alloc(0),
    Buffer.from(Array.from({ length: 300 }, () => Math.floor(rand() * 256))),
  ];
  const after: Message[] = [
    { type: 'DATA_END', bytes: 1300 },
    { type: 'PING', seq: 7 },
  ];
  const wire = Buffer.concat([...payloads.map((payload) => encodeMessage({ type: 'DATA', payload })), ...after.map(encodeMessage)]);
  /** Each chunk in an ArrayBuffer of its own, so a part's `.buffer` says which chunk it views. */
  const own = (piece: Buffer) => {
    const copy = Buffer.from(new ArrayBuffer(piece.length));
    piece.copy(copy);
    return copy;
  };

  function decode(chunks: Buffer[]) {
    const decoder = new FrameDecoder({ maxFrameBytes: 2000 });
    decoder.streamPayloads(FrameType.DATA);
    const frames: Buffer[][] = [[]];
    const messages: Message[] = [];
    for (const chunk of chunks) {
      for (const item of decoder.push(chunk)) {
        if (item.kind === 'part') {
          assert.equal(item.type, FrameType.DATA);
          // A view of the chunk pushed now: never a copy, never a merge of chunks.
          assert.equal(item.data.length === 0 || item.data.buffer === chunk.buffer, true, 'part is a view of its chunk');
          frames.at(-1)!.push(item.data);
          if (item.last) frames.push([]);
        } else {
          assert.equal(item.kind, 'frame');
          if (item.kind === 'frame') messages.push(parseMessage(item));
        }
      }
    }
    decoder.end();
    return { payloads: frames.slice(0, -1).map((parts) => Buffer.concat(parts)), messages };
  }

  test(`two chunks, split at every offset 0..${wire.length}: the payloads, then DATA_END and PING`, () => {
    for (let i = 0; i <= wire.length; i++) {
      const got = decode(splitAt(wire, [i]).map(own));
      assert.deepEqual(got.payloads, payloads, `split at ${i}`);
      assert.deepEqual(got.messages, after, `split at ${i}`);
    }
  });

  test('1-byte chunks', () => {
    const got = decode([...byteChunks(wire)].map(own));
    assert.deepEqual(got.payloads, payloads);
    assert.deepEqual(got.messages, after);
  });

  test('the length limit still holds from the header, before any payload', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100 });
    decoder.streamPayloads(FrameType.DATA);
    assert.throws(
      () => [...decoder.push(encodeMessage({ type: 'DATA', payload: Buffer.alloc(101) }).subarray(0, 5))],
      (err: ProtocolError) => err.code === 'NETPROBE_FRAME_TOO_LARGE',
    );
  });

  test('a stream that ends inside a streamed frame is a protocol error', () => {
    const decoder = new FrameDecoder();
    decoder.streamPayloads(FrameType.DATA);
    void [...decoder.push(encodeMessage({ type: 'DATA', payload: Buffer.alloc(10) }).subarray(0, 9))];
    assert.throws(() => decoder.end(), /ended inside a DATA frame \(6 bytes of it missing\)/);
  });

  test('streamPayloads(undefined) assembles DATA frames again', () => {
    const decoder = new FrameDecoder();
    decoder.streamPayloads(FrameType.DATA);
    decoder.streamPayloads(undefined);
    const items = [...decoder.push(encodeMessage({ type: 'DATA', payload: Buffer.from('abc') }))];
    assert.deepEqual(
      items.map((i) => i.kind),
      ['frame'],
    );
  });
});
