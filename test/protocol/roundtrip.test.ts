import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FrameDecoder,
  FrameType,
  HEADER_BYTES,
  type Message,
  encodeFrame,
  encodeHeader,
  encodeMessage,
  frameTypeName,
  parseMessage,
} from '../../src/protocol/index.js';
import { decodeChunks, fixtureEntries, fixtures, rawFrame } from './helpers.js';

describe('round trip: encodeMessage → FrameDecoder.push → parseMessage', () => {
  for (const [name, message] of fixtureEntries) {
    test(name, () => {
      const frame = encodeMessage(message);
      assert.equal(frame.readUInt8(0), FrameType[message.type]);
      assert.equal(frame.readUInt32BE(1), frame.length - HEADER_BYTES);

      const decoder = new FrameDecoder();
      const items = [...decoder.push(frame)];
      assert.equal(items.length, 1);
      const item = items[0]!;
      assert.equal(item.kind, 'frame');
      if (item.kind !== 'frame') return;
      assert.equal(item.type, FrameType[message.type]);
      assert.deepEqual(parseMessage(item), message);
      assert.equal(decoder.bufferedBytes, 0);
      assert.equal(decoder.expectingRaw, 0);
      decoder.end();
    });
  }

  test('fixtures cover every frame type', () => {
    const covered = new Set(fixtureEntries.map(([, m]) => m.type));
    assert.deepEqual([...covered].sort(), Object.keys(FrameType).sort());
  });

  test('GET_FILE without durationMs decodes without the key', () => {
    const { messages } = decodeChunks([encodeMessage(fixtures.getFile)]);
    assert.deepEqual(messages, [fixtures.getFile]);
    assert.equal(Object.hasOwn(messages[0]!, 'durationMs'), false);
  });

  test('all fixtures in one chunk decode in order', () => {
    const stream = Buffer.concat(fixtureEntries.map(([, m]) => encodeMessage(m)));
    const { messages, raw } = decodeChunks([stream], { followRaw: false });
    assert.deepEqual(
      messages,
      fixtureEntries.map(([, m]) => m),
    );
    assert.equal(raw.length, 0);
  });

  test('frameTypeName maps every type byte and nothing else', () => {
    for (const [name, value] of Object.entries(FrameType)) assert.equal(frameTypeName(value), name);
    for (let b = 0; b < 256; b++) {
      if (!Object.values(FrameType).includes(b as never)) assert.equal(frameTypeName(b), undefined, `0x${b.toString(16)}`);
    }
  });
});

describe('encoder output byte for byte', () => {
  const cases: { name: string; message: Message; expected: Buffer }[] = [
    {
      name: 'PING',
      message: fixtures.ping,
      // type 0x03, length 10, {"seq":42}
      expected: Buffer.concat([Buffer.from([0x03, 0x00, 0x00, 0x00, 0x0a]), Buffer.from('{"seq":42}', 'utf8')]),
    },
    {
      name: 'GET_FILE (duration mode)',
      message: fixtures.getFileDuration,
      expected: Buffer.concat([Buffer.from([0x05, 0x00, 0x00, 0x00, 0x24]), Buffer.from('{"name":"stream","durationMs":10000}', 'utf8')]),
    },
    {
      name: 'FILE_META (duration mode)',
      message: fixtures.fileMetaDuration,
      expected: Buffer.concat([
        Buffer.from([0x06, 0x00, 0x00, 0x00, 0x3f]),
        Buffer.from('{"name":"stream","sizeBytes":0,"sha256":null,"mode":"duration"}', 'utf8'),
      ]),
    },
    {
      name: 'ERROR',
      message: { type: 'ERROR', code: 'NETPROBE_BUSY', message: 'later' },
      expected: Buffer.concat([
        Buffer.from([0x0c, 0x00, 0x00, 0x00, 0x2a]),
        Buffer.from('{"code":"NETPROBE_BUSY","message":"later"}', 'utf8'),
      ]),
    },
    {
      name: 'HELLO with non-ASCII text: length counts UTF-8 bytes, not characters',
      message: { type: 'HELLO', version: 1, software: 'ü—', capabilities: [] },
      // "ü" is 2 bytes, "—" is 3 bytes: 47 characters, 50 bytes.
      expected: Buffer.concat([
        Buffer.from([0x01, 0x00, 0x00, 0x00, 0x32]),
        Buffer.from([
          ...Buffer.from('{"version":1,"software":"', 'latin1'),
          0xc3,
          0xbc,
          0xe2,
          0x80,
          0x94,
          ...Buffer.from('","capabilities":[]}', 'latin1'),
        ]),
      ]),
    },
    {
      name: 'DATA: payload verbatim, not JSON',
      message: { type: 'DATA', payload: Buffer.from([0x00, 0xff, 0x7b, 0x0a]) },
      expected: Buffer.from([0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0xff, 0x7b, 0x0a]),
    },
    {
      name: 'DATA empty',
      message: { type: 'DATA', payload: Buffer.alloc(0) },
      expected: Buffer.from([0x07, 0x00, 0x00, 0x00, 0x00]),
    },
  ];

  for (const { name, message, expected } of cases) {
    test(name, () => {
      // The hand-written length byte must agree with the hand-written payload.
      assert.equal(expected.readUInt32BE(1), expected.length - HEADER_BYTES, 'fixture length field');
      assert.deepEqual(encodeMessage(message), expected);
      const { messages } = decodeChunks([expected]);
      assert.deepEqual(messages, [message]);
    });
  }

  test('every JSON fixture: type byte, u32 BE length, JSON.stringify of the body', () => {
    for (const [name, message] of fixtureEntries) {
      if (message.type === 'DATA') continue;
      const { type, ...body } = message;
      const expected = rawFrame(FrameType[type], JSON.stringify(body));
      assert.deepEqual(encodeMessage(message), expected, name);
    }
  });

  test('encodeHeader and encodeFrame agree with the hand-built layout', () => {
    assert.deepEqual(encodeHeader(FrameType.REPORT, 0x01020304), Buffer.from([0x09, 0x01, 0x02, 0x03, 0x04]));
    assert.deepEqual(encodeHeader(FrameType.ACK, 0xffff_ffff), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff]));
    const payload = Buffer.from('abc');
    assert.deepEqual(encodeFrame(FrameType.BUSY, payload), Buffer.from([0x0b, 0, 0, 0, 3, 0x61, 0x62, 0x63]));
    assert.deepEqual(encodeFrame(FrameType.BUSY, payload), Buffer.concat([encodeHeader(FrameType.BUSY, 3), payload]));
  });
});
