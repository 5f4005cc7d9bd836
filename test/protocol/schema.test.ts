import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCodes, ProtocolError } from '../../src/errors.js';
import {
  FrameType,
  MAX_RESULTS_PER_REPORT,
  MAX_SAMPLES,
  type FrameTypeName,
  type Message,
  expectMessage,
  parseMessage,
} from '../../src/protocol/index.js';
import { RESULT_ID_A, decodeChunks, expectProtocolError, fixtureEntries, fixtures, frameOf, fullResult, rawFrame } from './helpers.js';

/** The fixture's JSON body with `edit` applied (edit may mutate in place). */
function bodyOf(message: Message, edit: (body: Record<string, unknown>) => void): string {
  const { type: _type, ...rest } = message;
  const body = structuredClone(rest) as Record<string, unknown>;
  edit(body);
  return JSON.stringify(body);
}

function resultEdit(edit: (result: Record<string, unknown>) => void): string {
  return bodyOf(fixtures.report, (body) => {
    const results = body.results as Record<string, unknown>[];
    edit(results[0]!);
  });
}

function report(n: number): string {
  return JSON.stringify({ results: Array.from({ length: n }, () => fullResult) });
}

describe('schema violations → NETPROBE_BAD_PAYLOAD', () => {
  const cases: [string, FrameTypeName, string][] = [
    // Negative sizes and counts.
    ['FILE_META negative sizeBytes', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => (b.sizeBytes = -1))],
    ['DATA_END negative bytes', 'DATA_END', '{"bytes":-5}'],
    ['PING negative seq', 'PING', '{"seq":-1}'],
    ['BUSY negative retryAfterMs', 'BUSY', bodyOf(fixtures.busy, (b) => (b.retryAfterMs = -1))],
    ['ACK negative duplicates', 'ACK', bodyOf(fixtures.ack, (b) => (b.duplicates = -1))],
    // Strings where numbers belong, non-integers, unsafe integers, overflow to Infinity.
    ['PING seq as string', 'PING', '{"seq":"1"}'],
    ['PING seq "NaN"', 'PING', '{"seq":"NaN"}'],
    ['PING seq null', 'PING', '{"seq":null}'],
    ['PING fractional seq', 'PING', '{"seq":1.5}'],
    ['PING seq 2^53', 'PING', '{"seq":9007199254740992}'],
    ['PING seq 1e400 (Infinity after parse)', 'PING', '{"seq":1e400}'],
    ['PONG serverTimeMs 1e400', 'PONG', '{"seq":1,"serverTimeMs":1e400}'],
    ['PONG serverTimeMs -1e400', 'PONG', '{"seq":1,"serverTimeMs":-1e400}'],
    ['WELCOME serverTimeMs as string', 'WELCOME', bodyOf(fixtures.welcome, (b) => (b.serverTimeMs = '1741964966535'))],
    ['WELCOME maxFrameBytes 0', 'WELCOME', bodyOf(fixtures.welcome, (b) => (b.maxFrameBytes = 0))],
    ['FILE_META sizeBytes 1e400', 'FILE_META', '{"name":"f","sizeBytes":1e400,"sha256":null,"mode":"file"}'],
    ['FILE_META sizeBytes as string', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => (b.sizeBytes = '10'))],
    ['HELLO version 65536', 'HELLO', bodyOf(fixtures.hello, (b) => (b.version = 65536))],
    // Other field constraints.
    ['GET_FILE durationMs 0', 'GET_FILE', '{"name":"f","durationMs":0}'],
    ['GET_FILE durationMs over the limit', 'GET_FILE', '{"name":"f","durationMs":600001}'],
    ['GET_FILE durationMs null', 'GET_FILE', '{"name":"f","durationMs":null}'],
    ['GET_FILE empty name', 'GET_FILE', '{"name":""}'],
    ['GET_FILE name too long', 'GET_FILE', JSON.stringify({ name: 'x'.repeat(129) })],
    ['FILE_META uppercase sha256', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => (b.sha256 = String(b.sha256).toUpperCase()))],
    ['FILE_META short sha256', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => (b.sha256 = 'abc'))],
    ['FILE_META unknown mode', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => (b.mode = 'stream'))],
    ['FILE_META missing sha256', 'FILE_META', bodyOf(fixtures.fileMetaFile, (b) => delete b.sha256)],
    ['ACK bad uuid', 'ACK', '{"ids":["not-a-uuid"],"duplicates":0}'],
    ['ERROR empty code', 'ERROR', '{"code":"","message":"x"}'],
    ['HELLO too many capabilities', 'HELLO', bodyOf(fixtures.hello, (b) => (b.capabilities = Array(33).fill('c')))],
    // Not an object at all.
    ['PING array', 'PING', '[42]'],
    ['PING null', 'PING', 'null'],
    ['PING number', 'PING', '42'],
    ['PING string', 'PING', '"seq"'],
    // Unknown keys (strict schemas), including prototype-ish names.
    ['PING extra key', 'PING', '{"seq":1,"extra":true}'],
    ['PING "type" key', 'PING', '{"seq":1,"type":"PONG"}'],
    ['PING __proto__ key', 'PING', '{"seq":1,"__proto__":{"admin":true}}'],
    ['PING constructor key', 'PING', '{"seq":1,"constructor":{}}'],
    // REPORT and its results.
    ['REPORT with 0 results', 'REPORT', '{"results":[]}'],
    [`REPORT with ${MAX_RESULTS_PER_REPORT + 1} results`, 'REPORT', report(MAX_RESULTS_PER_REPORT + 1)],
    ['REPORT results not an array', 'REPORT', '{"results":{}}'],
    ['result throughputMbps -1', 'REPORT', resultEdit((r) => (r.throughputMbps = -1))],
    ['result goodputMbps above 1 Tbit/s', 'REPORT', resultEdit((r) => (r.goodputMbps = 1_000_001))],
    [`result with ${MAX_SAMPLES + 1} samples`, 'REPORT', resultEdit((r) => (r.samplesMbps = Array(MAX_SAMPLES + 1).fill(1)))],
    ['result negative sample', 'REPORT', resultEdit((r) => (r.samplesMbps = [1, -0.5]))],
    ['result sample as string', 'REPORT', resultEdit((r) => (r.samplesMbps = ['1']))],
    ['result bad uuid', 'REPORT', resultEdit((r) => (r.id = 'not-a-uuid'))],
    ['result uuid without dashes', 'REPORT', resultEdit((r) => (r.id = RESULT_ID_A.replaceAll('-', '')))],
    ['result bad startedAt', 'REPORT', resultEdit((r) => (r.startedAt = 'yesterday'))],
    ['result startedAt month 13', 'REPORT', resultEdit((r) => (r.startedAt = '2025-13-01T00:00:00Z'))],
    ['result startedAt without offset', 'REPORT', resultEdit((r) => (r.startedAt = '2025-03-14T15:09:26'))],
    ['result startedAt as epoch ms', 'REPORT', resultEdit((r) => (r.startedAt = 1_741_964_966_535))],
    ['result dnsMs longer than a day', 'REPORT', resultEdit((r) => (r.dnsMs = 86_400_001))],
    ['result negative tlsMs', 'REPORT', resultEdit((r) => (r.tlsMs = -0.1))],
    ['result fractional bytes', 'REPORT', resultEdit((r) => (r.bytes = 1.5))],
    ['result unknown mode', 'REPORT', resultEdit((r) => (r.mode = 'udp'))],
    ['result empty client', 'REPORT', resultEdit((r) => (r.client = ''))],
    ['result missing clientLimited', 'REPORT', resultEdit((r) => delete r.clientLimited)],
    ['result clientLimited as 0', 'REPORT', resultEdit((r) => (r.clientLimited = 0))],
    ['result extra key', 'REPORT', resultEdit((r) => (r.receivedAt = '2025-03-14T15:09:27Z'))],
    ['result error with extra key', 'REPORT', resultEdit((r) => (r.error = { code: 'X', message: 'y', stack: 'z' }))],
    ['result error with empty code', 'REPORT', resultEdit((r) => (r.error = { code: '', message: 'y' }))],
  ];

  for (const [name, type, payload] of cases) {
    test(name, () => {
      const err = expectProtocolError(() => decodeChunks([rawFrame(FrameType[type], payload)]), ErrorCodes.badPayload);
      assert.match(err.message, new RegExp(`invalid ${type}`));
    });
  }

  test('every JSON type rejects an unknown extra key', () => {
    for (const [name, message] of fixtureEntries) {
      if (message.type === 'DATA') continue;
      const payload = bodyOf(message, (b) => (b.unexpected = 1));
      expectProtocolError(() => parseMessage(frameOf(message.type, payload)), ErrorCodes.badPayload, name);
    }
  });

  test('every JSON type rejects {} (required fields missing)', () => {
    for (const type of Object.keys(FrameType) as FrameTypeName[]) {
      if (type === 'DATA') continue;
      expectProtocolError(() => parseMessage(frameOf(type, '{}')), ErrorCodes.badPayload, type);
    }
  });

  test('boundaries that are allowed', () => {
    const ok: [FrameTypeName, string][] = [
      ['REPORT', report(MAX_RESULTS_PER_REPORT)],
      ['REPORT', resultEdit((r) => (r.samplesMbps = Array(MAX_SAMPLES).fill(0)))],
      ['REPORT', resultEdit((r) => (r.throughputMbps = 0))],
      ['PING', `{"seq":${Number.MAX_SAFE_INTEGER}}`],
      ['GET_FILE', '{"name":"f","durationMs":600000}'],
      ['FILE_META', '{"name":"f","sizeBytes":0,"sha256":null,"mode":"file"}'],
      ['ACK', '{"ids":[],"duplicates":0}'],
    ];
    for (const [type, payload] of ok) {
      const message = parseMessage(frameOf(type, payload));
      assert.equal(message.type, type);
    }
  });

  test('a ProtocolError from parseMessage is typed and has a bounded message', () => {
    const err = expectProtocolError(() => parseMessage(frameOf('REPORT', report(MAX_RESULTS_PER_REPORT + 1))), ErrorCodes.badPayload);
    assert.ok(err instanceof ProtocolError);
    assert.ok(err.message.length < 600, `message length ${err.message.length}`);
  });

  test('a REPORT of 1,000 results all invalid: validation stops at the first, the message names a few issues of it', () => {
    const bad = { ...fullResult, bytes: -1, dnsMs: -1, throughputMbps: -1, samplesMbps: Array.from({ length: 200 }, () => -1) };
    const body = JSON.stringify({ results: Array.from({ length: MAX_RESULTS_PER_REPORT }, () => bad) });
    const err = expectProtocolError(() => parseMessage(frameOf('REPORT', body)), ErrorCodes.badPayload);
    assert.match(err.message, /results\[0\]/);
    // The first result's 203 issues, not 203,000 (before: every issue of every result was formatted).
    assert.match(err.message, /\(and 200 more\)$/);
    assert.ok(err.message.length < 700, `message length ${err.message.length}`);
  });

  test('a REPORT whose 1,000th result alone is invalid is refused, naming it', () => {
    const results = Array.from({ length: MAX_RESULTS_PER_REPORT }, (_, i) =>
      i === MAX_RESULTS_PER_REPORT - 1 ? { ...fullResult, bytes: -1 } : fullResult,
    );
    const err = expectProtocolError(() => parseMessage(frameOf('REPORT', JSON.stringify({ results }))), ErrorCodes.badPayload);
    assert.match(err.message, /results\[999\]\.bytes/);
  });
});

describe('expectMessage', () => {
  test('returns the message when the type matches', () => {
    const welcome = expectMessage(fixtures.welcome, 'WELCOME');
    assert.equal(welcome.serverId, 'collector-1');
  });

  test(`an ERROR where WELCOME was expected → ${ErrorCodes.unexpectedMessage}`, () => {
    const err = expectProtocolError(() => expectMessage(fixtures.error, 'WELCOME'), ErrorCodes.unexpectedMessage);
    assert.match(err.message, /expected WELCOME, got ERROR/);
  });

  test('any other mismatch → NETPROBE_UNEXPECTED_MESSAGE', () => {
    expectProtocolError(() => expectMessage(fixtures.ping, 'PONG'), ErrorCodes.unexpectedMessage);
    expectProtocolError(() => expectMessage(fixtures.data, 'DATA_END'), ErrorCodes.unexpectedMessage);
  });
});
