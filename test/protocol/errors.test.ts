import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCodes, NetprobeError } from '../../src/errors.js';
import {
  FrameDecoder,
  FrameType,
  HEADER_BYTES,
  MAX_LENGTH_FIELD,
  type Frame,
  type FrameTypeValue,
  encodeHeader,
  encodeMessage,
  parseMessage,
} from '../../src/protocol/index.js';
import { decodeChunks, expectProtocolError, fixtures, frameOf, rawFrame } from './helpers.js';

function drain(decoder: FrameDecoder, chunk: Buffer): Frame[] {
  const frames: Frame[] = [];
  for (const item of decoder.push(chunk)) if (item.kind === 'frame') frames.push(item);
  return frames;
}

describe('oversize frames', () => {
  test('rejected from the header alone, before any payload is buffered', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    const header = encodeHeader(FrameType.REPORT, 1025);
    for (let i = 0; i < HEADER_BYTES - 1; i++) {
      assert.deepEqual(drain(decoder, header.subarray(i, i + 1)), []);
      assert.equal(decoder.bufferedBytes, i + 1);
    }
    const err = expectProtocolError(() => drain(decoder, header.subarray(HEADER_BYTES - 1)), ErrorCodes.frameTooLarge);
    assert.ok(err instanceof NetprobeError);
    assert.match(err.message, /1025/);
    assert.match(err.message, /1024/);
    assert.equal(decoder.bufferedBytes, 0, 'buffer released on failure');
  });

  test('length field at the u32 ceiling with the default limit', () => {
    const decoder = new FrameDecoder();
    expectProtocolError(() => drain(decoder, encodeHeader(FrameType.DATA, MAX_LENGTH_FIELD)), ErrorCodes.frameTooLarge);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('thrown when header plus a little payload arrive, not after the payload', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 });
    const chunk = Buffer.concat([encodeHeader(FrameType.DATA, 64 * 1024 + 1), Buffer.alloc(100)]);
    expectProtocolError(() => drain(decoder, chunk), ErrorCodes.frameTooLarge);
    assert.equal(decoder.bufferedBytes, 0);
  });

  test('exactly maxFrameBytes is accepted, one more is not', () => {
    const ok = new FrameDecoder({ maxFrameBytes: 16 });
    const frames = drain(ok, rawFrame(FrameType.DATA, Buffer.alloc(16, 1)));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.payload.length, 16);
    const tooBig = new FrameDecoder({ maxFrameBytes: 16 });
    expectProtocolError(() => drain(tooBig, rawFrame(FrameType.DATA, Buffer.alloc(17, 1))), ErrorCodes.frameTooLarge);
  });

  test('frames before the oversize one in the same chunk are still delivered', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 64 });
    const chunk = Buffer.concat([encodeMessage(fixtures.ping), encodeHeader(FrameType.REPORT, 65)]);
    const seen: Frame[] = [];
    expectProtocolError(() => {
      for (const item of decoder.push(chunk)) if (item.kind === 'frame') seen.push(item);
    }, ErrorCodes.frameTooLarge);
    assert.deepEqual(seen.map(parseMessage), [fixtures.ping]);
  });
});

describe('unknown frame types', () => {
  for (const type of [0x00, 0x11, 0x7f, 0x80, 0xff]) {
    test(`0x${type.toString(16).padStart(2, '0')} → ${ErrorCodes.unknownType} from the header`, () => {
      const decoder = new FrameDecoder();
      const err = expectProtocolError(() => drain(decoder, rawFrame(type, '{}').subarray(0, HEADER_BYTES)), ErrorCodes.unknownType);
      assert.match(err.message, new RegExp(`0x${type.toString(16).padStart(2, '0')}`));
    });
  }

  test('parseMessage refuses a frame object with an unknown type', () => {
    expectProtocolError(
      () => parseMessage({ kind: 'frame', type: 0x42 as FrameTypeValue, payload: Buffer.from('{}') }),
      ErrorCodes.unknownType,
    );
  });
});

describe('truncated streams: end() throws NETPROBE_PROTOCOL', () => {
  const frame = encodeMessage(fixtures.report);
  for (const cut of [1, HEADER_BYTES - 1, HEADER_BYTES, HEADER_BYTES + 1, frame.length - 1]) {
    test(`stream ends after ${cut} of ${frame.length} bytes`, () => {
      const decoder = new FrameDecoder();
      assert.deepEqual(drain(decoder, frame.subarray(0, cut)), []);
      assert.equal(decoder.bufferedBytes, cut);
      expectProtocolError(() => decoder.end(), ErrorCodes.protocol);
    });
  }

  test('stream ends inside the raw bytes after FILE_META', () => {
    const meta = encodeMessage({ type: 'FILE_META', name: 'f', sizeBytes: 10, sha256: null, mode: 'file' });
    const stream = Buffer.concat([meta, Buffer.alloc(9)]);
    const err = expectProtocolError(() => decodeChunks([stream]), ErrorCodes.protocol);
    assert.match(err.message, /1 bytes before the end of the file/);
  });

  test('a clean end after whole frames does not throw', () => {
    const decoder = new FrameDecoder();
    drain(decoder, encodeMessage(fixtures.ping));
    decoder.end();
    new FrameDecoder().end();
  });
});

describe('the decoder stays failed after a ProtocolError', () => {
  const failures: [string, Buffer][] = [
    ['oversize', encodeHeader(FrameType.DATA, 1_000_000)],
    ['unknown type', rawFrame(0xee, '{}')],
  ];
  for (const [name, bad] of failures) {
    test(name, () => {
      const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
      const first = expectProtocolError(() => drain(decoder, bad), name === 'oversize' ? ErrorCodes.frameTooLarge : ErrorCodes.unknownType);
      // Valid input afterwards is refused with the same error; nothing is buffered.
      for (const chunk of [encodeMessage(fixtures.ping), Buffer.alloc(0), encodeMessage(fixtures.ack)]) {
        let again: unknown;
        try {
          drain(decoder, chunk);
        } catch (err) {
          again = err;
        }
        assert.equal(again, first);
        assert.equal(decoder.bufferedBytes, 0);
      }
    });
  }
});

describe('invalid JSON → NETPROBE_BAD_PAYLOAD', () => {
  const payloads: [string, Buffer][] = [
    ['empty', Buffer.alloc(0)],
    ['truncated object', Buffer.from('{"seq":4')],
    ['trailing garbage', Buffer.from('{"seq":4}x')],
    ['two documents', Buffer.from('{"seq":4}{"seq":5}')],
    ['bare word', Buffer.from('nul')],
    ['NaN literal', Buffer.from('{"seq":NaN}')],
    ['Infinity literal', Buffer.from('{"seq":Infinity}')],
    ['single quotes', Buffer.from("{'seq':4}")],
    ['byte-order mark', Buffer.from('\ufeff{"seq":4}')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['NUL bytes', Buffer.alloc(8)],
  ];
  for (const [name, payload] of payloads) {
    test(name, () => {
      const err = expectProtocolError(() => decodeChunks([rawFrame(FrameType.PING, payload)]), ErrorCodes.badPayload);
      assert.match(err.message, /PING/);
    });
  }

  test('deeply nested JSON is a BAD_PAYLOAD, not a stack overflow', () => {
    const depth = 100_000;
    const nested = '['.repeat(depth) + ']'.repeat(depth);
    expectProtocolError(
      () => parseMessage(frameOf('HELLO', `{"version":1,"software":"x","capabilities":${nested}}`)),
      ErrorCodes.badPayload,
    );
    expectProtocolError(() => parseMessage(frameOf('PING', `{"seq":1,"x":${nested}}`)), ErrorCodes.badPayload);
    expectProtocolError(() => parseMessage(frameOf('PING', '['.repeat(depth))), ErrorCodes.badPayload);
  });

  test('keeps the JSON.parse error as cause', () => {
    const err = expectProtocolError(() => parseMessage(frameOf('HELLO', '{')), ErrorCodes.badPayload);
    assert.ok(err.cause instanceof SyntaxError);
  });
});
