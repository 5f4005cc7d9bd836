/**
 * Upload (protocol capability 'upload') against the real server: the CLI client with
 * --direction both, a client speaking today's protocol (no 'upload' capability, results without
 * direction), the size/time limits, and 50 uploaders at once against the BUSY rule.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerClient } from '../../src/cli/client.js';
import { PROTOCOL_VERSION, FrameType, encodeHeader } from '../../src/protocol/frame.js';
import type { StoredResult } from '../../src/protocol/result.js';
import type { RunningServer } from '../../src/server/server.js';
import type { ServerConfigInput } from '../../src/server/config.js';
import { probe } from '../../src/client/probe.js';
import { parseEndpoint } from '../../src/client/endpoint.js';
import { type ClientFixture, clientFixture, fixtureServer } from '../client/helpers/setup.js';
import { WireClient, sampleResult } from '../helpers/wire.js';

let fx: ClientFixture;
before(async () => {
  fx = await clientFixture(['alice', 'bob']);
});
after(() => fx.cleanup());

function server(t: { after(fn: () => Promise<void>): void }, extra: Partial<ServerConfigInput> = {}): Promise<RunningServer> {
  return fixtureServer(fx, t, extra);
}

async function stored(s: RunningServer): Promise<StoredResult[]> {
  const rows: StoredResult[] = [];
  for await (const row of s.store.iterateResults()) rows.push(row);
  return rows;
}

async function wire(s: RunningServer, t: { after(fn: () => void): void }, name = 'alice'): Promise<WireClient> {
  const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients[name]! });
  t.after(() => w.close());
  return w;
}

/** HELLO declaring `capabilities`; returns WELCOME. */
async function greet(w: WireClient, capabilities: string[]) {
  w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities });
  const welcome = await w.next();
  assert.equal(welcome?.type, 'WELCOME');
  return welcome;
}

describe('upload', () => {
  test('netprobe client --direction both: one stored result per direction, the upload timed by the server', async (t) => {
    const s = await server(t);
    const program = new Command('netprobe').exitOverride();
    registerClient(program);
    await program.parseAsync(
      [
        'client',
        '--server',
        `127.0.0.1:${s.port}`,
        '--ca',
        fx.pki.ca,
        '--cert',
        fx.pki.clients.alice!.cert,
        '--key',
        fx.pki.clients.alice!.key,
        '--file',
        '1MiB',
        '--direction',
        'both',
        '--count',
        '1',
        '--outbox',
        join(await fx.tempDir(), 'outbox.db'),
        '--log-level',
        'silent',
      ],
      { from: 'user' },
    );
    const rows = await stored(s);
    assert.equal(rows.length, 2);
    const down = rows.find((r) => r.direction === undefined);
    const up = rows.find((r) => r.direction === 'upload');
    assert.ok(down && up, JSON.stringify(rows.map((r) => r.direction)));
    assert.equal(down.error, null);
    assert.equal(up.error, null, JSON.stringify(up.error));
    for (const r of [down, up]) {
      assert.equal(r.bytes, 1024 * 1024);
      assert.ok(r.throughputMbps! > 0 && r.transferMs! > 0);
      // transferMs is rounded to 1 µs, throughput from the unrounded time: equal to 0.5 % on loopback's short transfers.
      const expected = (r.bytes * 8) / r.transferMs! / 1000;
      assert.ok(
        Math.abs(r.throughputMbps! - expected) <= expected * 0.005,
        `throughput ${r.throughputMbps} = bytes / transfer time ${expected}`,
      );
      assert.ok(r.responseMs! <= r.downloadMs!);
      assert.equal(typeof r.loadedRttMs, 'number');
      assert.equal(typeof r.clientLimited, 'boolean');
      assert.ok(r.rpmProbes! >= 1, 'RPM comes with its probe count');
      assert.ok(r.rpm! > 0 && r.rpm === Math.round(r.rpm!));
    }
    assert.equal(typeof up.serverLimited, 'boolean');
    assert.equal(up.sha256Ok, null);
    assert.ok(up.transferMs! <= up.downloadMs!, 'the receiver’s transfer lies within PUT → PUT_RESULT');
  });

  test("today's client (no 'upload' capability, results without direction) still measures and reports against the new server", async (t) => {
    const s = await server(t);
    const w = await wire(s, t);
    const welcome = await greet(w, ['duration', 'report']);
    assert.ok(welcome?.type === 'WELCOME' && welcome.version === PROTOCOL_VERSION && welcome.capabilities.includes('upload'));
    const { reply, bytes } = await w.download('1MiB');
    assert.equal(reply?.type, 'FILE_META');
    assert.equal(bytes, 1024 * 1024);
    const old = sampleResult();
    assert.equal('direction' in old, false);
    w.send({ type: 'REPORT', results: [old] });
    const ack = await w.next();
    assert.equal(ack?.type, 'ACK');
    const rows = await stored(s);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.direction, undefined, 'stored as a download');
    // A PUT is refused on a connection that did not declare the capability.
    w.send({ type: 'PUT', name: '1MiB' });
    const refused = await w.next();
    assert.ok(refused?.type === 'ERROR' && /upload/.test(refused.message), JSON.stringify(refused));
  });

  test('a new client against a server without upload is told so in one line, before measuring', async (t) => {
    const s = await server(t);
    // The server's capabilities as an old server announced them.
    const { SERVER_CAPABILITIES } = await import('../../src/server/connection.js');
    SERVER_CAPABILITIES.splice(SERVER_CAPABILITIES.indexOf('upload'), 1);
    t.after(() => void SERVER_CAPABILITIES.push('upload'));
    await assert.rejects(
      probe({ endpoint: parseEndpoint(`127.0.0.1:${s.port}`), tls: fx.client, file: '1MiB', direction: 'upload', clientName: 'alice' }),
      /does not take uploads/,
    );
  });

  test("a client with 'upload-marks' gets the arrival curve in PUT_RESULT; one of the previous version (strict schema) never sees it", async (t) => {
    const s = await server(t);
    /** Uploads 1 MiB in 16 chunks 15 ms apart on a connection that declared `capabilities`. */
    const upload = async (capabilities: string[]) => {
      const w = await wire(s, t);
      await greet(w, capabilities);
      w.send({ type: 'PUT', name: '1MiB' });
      const ready = await w.next();
      assert.equal(ready?.type, 'PUT_READY');
      const chunk = Buffer.alloc(64 * 1024);
      for (let i = 0; i < 16; i++) {
        w.sendRaw(Buffer.concat([encodeHeader(FrameType.DATA, chunk.length), chunk]));
        await new Promise((r) => setTimeout(r, 15));
      }
      w.send({ type: 'DATA_END', bytes: 1024 * 1024 });
      const result = await w.next();
      assert.equal(result?.type, 'PUT_RESULT', JSON.stringify(result));
      return result as Extract<typeof result, { type: 'PUT_RESULT' }>;
    };
    const previous = await upload(['upload', 'streams']);
    assert.ok(previous.firstAtUnixMs !== undefined && previous.lastAtUnixMs !== undefined);
    assert.equal('arrivalMarks' in previous, false);
    const marked = await upload(['upload', 'streams', 'upload-marks']);
    const marks = marked.arrivalMarks!;
    assert.ok(marks.length >= 2, JSON.stringify(marks));
    // It starts at the first arrival, ends at the last with every byte, and never runs backwards.
    assert.equal(marks[0]![0], 0);
    assert.ok(marks[0]![1] > 0);
    const last = marks[marks.length - 1]!;
    assert.equal(last[1], 1024 * 1024);
    assert.ok(Math.abs(marked.firstAtUnixMs! + last[0] - marked.lastAtUnixMs!) < 0.01, JSON.stringify({ marked, last }));
    for (let i = 1; i < marks.length; i++)
      assert.ok(marks[i]![0] > marks[i - 1]![0] && marks[i]![1] >= marks[i - 1]![1], JSON.stringify(marks));
  });

  test('bytes one read of the socket gives are one arrival: a first burst of several TLS records is the first point whole', async (t) => {
    const s = await server(t);
    const w = await wire(s, t);
    await greet(w, ['upload', 'streams', 'upload-marks']);
    w.send({ type: 'PUT', name: '1MiB' });
    assert.equal((await w.next())?.type, 'PUT_READY');
    const frame = (bytes: number) => Buffer.concat([encodeHeader(FrameType.DATA, bytes), Buffer.alloc(bytes)]);
    // 48 KiB in one write: one segment over loopback, read at once, handed over as a TLS record (16 KiB) each.
    const burst = 3 * 16 * 1024;
    w.sendRaw(Buffer.concat([frame(16 * 1024), frame(16 * 1024), frame(16 * 1024)]));
    for (let sent = burst; sent < 1024 * 1024; sent += 64 * 1024) {
      await new Promise((r) => setTimeout(r, 15));
      w.sendRaw(frame(Math.min(64 * 1024, 1024 * 1024 - sent)));
    }
    w.send({ type: 'DATA_END', bytes: 1024 * 1024 });
    const result = await w.next();
    assert.ok(result?.type === 'PUT_RESULT', JSON.stringify(result));
    // The first arrival holds the whole burst (timed record by record it held the first record's 16 KiB).
    assert.deepEqual(result.arrivalMarks![0], [0, burst]);
  });

  test('an upload beyond its size is cut: ERROR NETPROBE_LIMIT, connection closed, nothing stored', async (t) => {
    const s = await server(t);
    const w = await wire(s, t);
    await greet(w, ['upload']);
    w.send({ type: 'PUT', name: '1MiB' });
    const ready = await w.next();
    assert.ok(ready?.type === 'PUT_READY' && ready.sizeBytes === 1024 * 1024, JSON.stringify(ready));
    const chunk = Buffer.alloc(256 * 1024);
    for (let i = 0; i < 5; i++) w.sendRaw(Buffer.concat([encodeHeader(FrameType.DATA, chunk.length), chunk]));
    const error = await w.next();
    assert.ok(error?.type === 'ERROR' && error.code === 'NETPROBE_LIMIT', JSON.stringify(error));
    assert.match(error.message, /exceeds its limit of 1048576 bytes/);
    await w.closed();
    assert.equal((await stored(s)).length, 0);
  });

  test('a duration upload over --max-upload-size, or asking for more than --max-upload-duration, is refused', async (t) => {
    const s = await server(t, { maxUploadBytes: 300 * 1024, maxUploadDurationMs: 1_000 });
    const long = await wire(s, t);
    await greet(long, ['upload']);
    long.send({ type: 'PUT', name: '1MiB', durationMs: 5_000 });
    const refused = await long.next();
    assert.ok(
      refused?.type === 'ERROR' && refused.code === 'NETPROBE_LIMIT' && /at most 1000 ms/.test(refused.message),
      JSON.stringify(refused),
    );
    await long.closed();

    const big = await wire(s, t);
    await greet(big, ['upload']);
    big.send({ type: 'PUT', name: '1MiB', durationMs: 500 });
    const ready = await big.next();
    assert.ok(ready?.type === 'PUT_READY' && ready.maxBytes === 300 * 1024, JSON.stringify(ready));
    const chunk = Buffer.alloc(128 * 1024);
    for (let i = 0; i < 3; i++) big.sendRaw(Buffer.concat([encodeHeader(FrameType.DATA, chunk.length), chunk]));
    const cut = await big.next();
    assert.ok(cut?.type === 'ERROR' && cut.code === 'NETPROBE_LIMIT', JSON.stringify(cut));
    await big.closed();
  });

  test('an upload that never ends is cut at its time limit with an ERROR', async (t) => {
    const s = await server(t, { maxUploadDurationMs: 100 });
    const w = await wire(s, t);
    await greet(w, ['upload']);
    w.send({ type: 'PUT', name: '1MiB', durationMs: 100 });
    const ready = await w.next();
    assert.ok(ready?.type === 'PUT_READY' && ready.maxDurationMs === 5_100);
    const error = await w.next();
    assert.ok(
      error?.type === 'ERROR' && error.code === 'NETPROBE_TIMEOUT' && /did not end within 5100 ms/.test(error.message),
      JSON.stringify(error),
    );
    await w.closed();
  });

  test('50 clients uploading at once get BUSY with a retry-after beyond the upload share; a download still gets through', async (t) => {
    const s = await server(t, { maxConcurrentTransfers: 8, maxConnectionsPerClient: 64, busyRetryAfterMs: 1_000 });
    const uploaders = await Promise.all(Array.from({ length: 50 }, () => wire(s, t)));
    await Promise.all(uploaders.map((w) => greet(w, ['upload'])));
    for (const w of uploaders) w.send({ type: 'PUT', name: '1MiB', durationMs: 60_000 });
    const replies = await Promise.all(uploaders.map((w) => w.next()));
    const ready = replies.filter((r) => r?.type === 'PUT_READY').length;
    const busy = replies.filter((r) => r?.type === 'BUSY');
    assert.equal(ready, 4, 'half of the 8 transfer slots go to uploads');
    assert.equal(busy.length, 46);
    for (const b of busy)
      assert.ok(b?.type === 'BUSY' && b.retryAfterMs >= 500 && b.retryAfterMs <= 1_500 && /uploads running/.test(b.reason));
    const downloader = await wire(s, t, 'bob');
    await greet(downloader, ['duration', 'report']);
    const { reply, bytes } = await downloader.download('1MiB');
    assert.equal(reply?.type, 'FILE_META', JSON.stringify(reply));
    assert.equal(bytes, 1024 * 1024);
  });
});
