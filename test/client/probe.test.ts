import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FrameType, encodeHeader } from '../../src/protocol/frame.js';
import { type ProbeConfig, UnknownFileError, probe } from '../../src/client/probe.js';
import { uuidv7TimeMs } from '../../src/client/uuid.js';
import { resultSchema } from '../../src/protocol/result.js';
import { FakeServer, type FakeServerOptions, fakeFile } from './helpers/fake-server.js';
import { type ClientFixture, clientFixture } from './helpers/setup.js';

const FILE = fakeFile('8MiB', 8 * 1024 * 1024);
const SMALL = fakeFile('64KiB', 64 * 1024, 7);

describe('probe', () => {
  let fx: ClientFixture;
  before(async () => {
    fx = await clientFixture();
  });
  after(() => fx.cleanup());

  async function server(t: { after(fn: () => Promise<void>): void }, options: Omit<FakeServerOptions, 'tls'> = {}): Promise<FakeServer> {
    const s = await FakeServer.start({ tls: fx.server, files: [FILE, SMALL], ...options });
    t.after(() => s.close());
    return s;
  }
  const config = (s: { endpoint: ProbeConfig['endpoint'] }, extra: Partial<ProbeConfig> = {}): ProbeConfig => ({
    endpoint: s.endpoint,
    tls: fx.client,
    file: FILE.name,
    clientName: 'alice',
    ...extra,
  });

  test('a download: every timing present and ordered, throughput = bytes/transfer time, hash checked', async (t) => {
    const s = await server(t);
    const before = Date.now();
    const { result, answered } = await probe(config(s));
    assert.equal(answered, true);
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.ok(resultSchema.safeParse(result).success);
    assert.equal(result.client, 'alice');
    assert.equal(result.server, `127.0.0.1:${s.port}`);
    assert.equal(result.mode, 'file');
    assert.equal(result.bytes, FILE.data.length);
    assert.equal(result.sha256Ok, true);
    assert.equal(result.tlsVersion, 'TLSv1.3');
    assert.match(result.cipher ?? '', /^TLS_/);
    assert.ok(Math.abs(uuidv7TimeMs(result.id) - Date.parse(result.startedAt)) === 0);
    assert.ok(Date.parse(result.startedAt) >= before && result.startedAt.endsWith('Z'));

    assert.equal(result.dnsMs, null, 'IP literal: no DNS');
    for (const key of [
      'connectMs',
      'tlsMs',
      'idleRttMs',
      'responseMs',
      'downloadMs',
      'transferMs',
      'throughputMbps',
      'goodputMbps',
      'loadedRttMs',
      'cpuMs',
    ] as const) {
      assert.equal(typeof result[key], 'number', `${key} is measured`);
      assert.ok(result[key]! >= 0, `${key} >= 0`);
    }
    const r = result as { [K in keyof typeof result]: NonNullable<(typeof result)[K]> };
    assert.ok(r.connectMs > 0 && r.tlsMs > 0);
    assert.ok(r.responseMs <= r.downloadMs, 'response before completion');
    assert.ok(r.transferMs <= r.downloadMs, 'transfer within the download');
    assert.ok(r.transferMs > 0);
    const expectedMbps = (r.bytes * 8) / r.transferMs / 1000;
    assert.ok(Math.abs(r.throughputMbps - expectedMbps) / expectedMbps < 0.01, `${r.throughputMbps} ≈ ${expectedMbps}`);
    const expectedGoodput = (r.bytes * 8) / r.downloadMs / 1000;
    assert.ok(Math.abs(r.goodputMbps - expectedGoodput) / expectedGoodput < 0.01);
    assert.ok(r.goodputMbps <= r.throughputMbps);
    // Full 250 ms windows plus at most one partial one.
    assert.ok(r.samplesMbps.length <= Math.floor(r.transferMs / 250) + 1);
    assert.equal(r.busyRetries, 0);
    assert.equal(s.count('PING') >= 5 + 1, true, 'idle PINGs and at least one loaded PING');
  });

  test('loaded RTT uses a second connection; 0 turns it off', async (t) => {
    const s = await server(t);
    const connections: string[] = [];
    s.options.onHello = (_m, conn) => {
      connections.push(conn.client ?? '?');
      conn.send(s.welcome());
    };
    const on = await probe(config(s));
    assert.equal(connections.length, 2);
    assert.equal(typeof on.result.loadedRttMs, 'number');
    const off = await probe(config(s, { loadedPingIntervalMs: 0 }));
    assert.equal(connections.length, 3);
    assert.equal(off.result.loadedRttMs, null);
    assert.equal(off.result.error, null);
  });

  test('a wrong sha256 is a failed result NETPROBE_INTEGRITY (timings kept)', async (t) => {
    const s = await server(t, { onGetFile: (m, conn) => conn.serveFile(m.name, { sha256: 'ab'.repeat(32) }) });
    const { result } = await probe(config(s));
    assert.equal(result.error?.code, 'NETPROBE_INTEGRITY');
    assert.equal(result.sha256Ok, false);
    assert.equal(result.bytes, FILE.data.length);
    assert.equal(typeof result.throughputMbps, 'number');
  });

  test("verify 'none': no hash is taken, sha256Ok stays null, the download counts on TLS alone", async (t) => {
    const s = await server(t, { onGetFile: (m, conn) => conn.serveFile(m.name, { sha256: 'ab'.repeat(32) }) });
    const { result } = await probe(config(s, { verify: 'none' }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.equal(result.sha256Ok, null);
    assert.equal(result.bytes, FILE.data.length);
  });

  test('keepSession: after a measurement without error its main session is returned open and usable; after an error none is', async (t) => {
    const s = await server(t);
    const { result, session } = await probe(config(s, { file: SMALL.name, keepSession: true }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.ok(session !== undefined && !session.closed);
    try {
      // The caller reports on it: the same connection (one HELLO for the measured connection, one for the loaded-RTT one).
      const ack = await session.report([result]);
      assert.deepEqual(ack.ids, [result.id]);
      assert.equal(s.count('HELLO'), 2);
    } finally {
      session.close();
    }
    const bad = await server(t, { onGetFile: (m, conn) => conn.serveFile(m.name, { sha256: 'ab'.repeat(32) }) });
    const failed = await probe(config(bad, { file: SMALL.name, keepSession: true }));
    assert.equal(failed.result.error?.code, 'NETPROBE_INTEGRITY');
    assert.equal(failed.session, undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(bad.connections.size, 0, 'every connection of the failed measurement closed');
  });

  test('a refused connection is a failed result NETPROBE_CONNECT_REFUSED, not an exception', async () => {
    const listener = net.createServer().listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const { port } = listener.address() as AddressInfo;
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    const { result, answered } = await probe(config({ endpoint: { host: '127.0.0.1', port } }));
    assert.equal(answered, false);
    assert.equal(result.error?.code, 'NETPROBE_CONNECT_REFUSED');
    assert.equal(result.bytes, 0);
    assert.equal(result.connectMs, null);
    assert.equal(result.throughputMbps, null);
    assert.equal(result.sha256Ok, null);
    assert.ok(resultSchema.safeParse(result).success);
  });

  test('BUSY is honoured (jittered wait of at least retryAfterMs), then success with busyRetries=1', async (t) => {
    let calls = 0;
    const s = await server(t, {
      onGetFile: (m, conn) => {
        if (calls++ === 0) conn.send({ type: 'BUSY', retryAfterMs: 200, reason: 'test' });
        else return conn.serveFile(m.name);
      },
    });
    const waits: number[] = [];
    const { result } = await probe(config(s), { sleep: async (ms) => void waits.push(ms), random: () => 0.5 });
    assert.equal(result.error, null);
    assert.equal(result.busyRetries, 1);
    assert.equal(result.bytes, FILE.data.length);
    assert.deepEqual(waits, [250]);
    assert.equal(s.count('HELLO'), 2, 'the BUSY answer kept the connection usable: no reconnect');
  });

  test('BUSY every time: NETPROBE_BUSY after maxBusyRetries', async (t) => {
    const s = await server(t, { onGetFile: (_m, conn) => conn.send({ type: 'BUSY', retryAfterMs: 10, reason: 'full' }) });
    const { result, answered } = await probe(config(s, { maxBusyRetries: 2 }), { sleep: async () => undefined });
    assert.equal(answered, true);
    assert.equal(result.error?.code, 'NETPROBE_BUSY');
    assert.equal(result.busyRetries, 2);
  });

  test('the server closing mid-transfer: NETPROBE_CONNECTION_CLOSED with the bytes received', async (t) => {
    const s = await server(t, { onGetFile: (m, conn) => conn.serveFile(m.name, { closeAfterBytes: 1024 * 1024 }) });
    const { result } = await probe(config(s));
    assert.equal(result.error?.code, 'NETPROBE_CONNECTION_CLOSED');
    assert.ok(result.bytes > 0 && result.bytes <= 1024 * 1024, `${result.bytes} bytes`);
    assert.equal(typeof result.responseMs, 'number');
    assert.equal(result.downloadMs, null);
    assert.equal(result.sha256Ok, null);
  });

  test('a transfer that stalls: NETPROBE_TIMEOUT after the idle timeout, bytes so far kept', async (t) => {
    const s = await server(t, { onGetFile: (m, conn) => conn.serveFile(m.name, { stallAfterBytes: 512 * 1024 }) });
    // The idle timeout (1 s: long enough that a busy machine's pauses do not trip it mid-transfer)
    // must fire on its own, not when the far longer response timeout comes round (it did: 30 s).
    const responseMs = 20_000;
    const startedAt = performance.now();
    const { result } = await probe(config(s, { timeouts: { idleMs: 1_000, responseMs } }));
    const elapsedMs = performance.now() - startedAt;
    assert.equal(result.error?.code, 'NETPROBE_TIMEOUT');
    assert.match(result.error?.message ?? '', /sent nothing for 1000 ms/);
    assert.equal(result.bytes, 512 * 1024);
    assert.ok(elapsedMs < responseMs, `the idle timeout fired after ${Math.round(elapsedMs)} ms, not before the response timeout`);
  });

  test('an unknown file is refused before measuring when WELCOME lists the files: no result, the list in the message', async (t) => {
    const s = await server(t);
    await assert.rejects(
      probe(config(s, { file: 'nope' })),
      (err: Error) =>
        err instanceof UnknownFileError &&
        err.code === 'NETPROBE_USAGE' &&
        /has no file 'nope' \(--file\); it serves: 8MiB, 64KiB$/.test(err.message),
    );
  });

  test('no answer to GET_FILE: NETPROBE_TIMEOUT after the response timeout', async (t) => {
    const s = await server(t, { onGetFile: () => undefined });
    const { result } = await probe(config(s, { timeouts: { responseMs: 100 } }));
    assert.equal(result.error?.code, 'NETPROBE_TIMEOUT');
    assert.match(result.error?.message ?? '', /within 100 ms/);
  });

  test('an ERROR answer to HELLO counts as not answered (failover material)', async (t) => {
    const s = await server(t, { onHello: (_m, conn) => conn.fail('NETPROBE_SHUTTING_DOWN', 'bye') });
    const { result, answered } = await probe(config(s));
    assert.equal(answered, false);
    assert.equal(result.error?.code, 'NETPROBE_SHUTTING_DOWN');
    assert.equal(typeof result.tlsMs, 'number');
  });

  test('duration mode: the transfer is timed from the first DATA byte, not from the first complete frame', async (t) => {
    const frameBytes = 64 * 1024;
    const s = await server(t, {
      onGetFile: async (_m, conn) => {
        conn.send({ type: 'FILE_META', name: FILE.name, sizeBytes: 0, sha256: null, mode: 'duration' });
        conn.socket.write(encodeHeader(FrameType.DATA, frameBytes));
        // One DATA frame trickling in over ~400 ms: its bytes belong to those 400 ms.
        for (let sent = 0; sent < frameBytes; sent += 8 * 1024) {
          await new Promise((r) => setTimeout(r, 50));
          conn.socket.write(FILE.data.subarray(sent, sent + 8 * 1024));
        }
        conn.send({ type: 'DATA_END', bytes: frameBytes });
      },
    });
    const { result } = await probe(config(s, { durationMs: 400, loadedPingIntervalMs: 0 }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.equal(result.bytes, frameBytes);
    assert.ok(result.transferMs !== null && result.transferMs >= 300, `transferMs ${result.transferMs}`);
    const expectedMbps = (frameBytes * 8) / result.transferMs / 1000;
    assert.ok(result.throughputMbps !== null && Math.abs(result.throughputMbps - expectedMbps) / expectedMbps < 0.01);
  });

  test('duration mode: a DATA frame counts as its bytes arrive, not in one step when it is complete', async (t) => {
    // Bytes counted only once a frame is whole moved a --streams stream's curve in 256 KiB steps
    // (0.8 s each for one of four streams at 10 Mbit/s): aggregates off by -65..+5 %.
    const frameBytes = 64 * 1024;
    const s = await server(t, {
      onGetFile: async (_m, conn) => {
        conn.send({ type: 'FILE_META', name: FILE.name, sizeBytes: 0, sha256: null, mode: 'duration' });
        conn.socket.write(encodeHeader(FrameType.DATA, frameBytes));
        // One frame in 16 pieces over ≥ 900 ms: at least 3 windows of 250 ms see some of it.
        for (let sent = 0; sent < frameBytes; sent += 4 * 1024) {
          conn.socket.write(FILE.data.subarray(sent, sent + 4 * 1024));
          await new Promise((r) => setTimeout(r, 60));
        }
        conn.send({ type: 'DATA_END', bytes: frameBytes });
      },
    });
    const { result } = await probe(config(s, { durationMs: 900, loadedPingIntervalMs: 0 }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.equal(result.bytes, frameBytes);
    assert.ok(result.samplesMbps.length >= 3, `samples ${JSON.stringify(result.samplesMbps)}`);
    // The first (full) window holds what arrived in it (at most 5 of the 16 pieces), not the whole frame.
    const firstWindowBytes = result.samplesMbps[0]! * 250 * 125;
    assert.ok(firstWindowBytes <= frameBytes / 2, `first window ${firstWindowBytes} of ${frameBytes} bytes`);
  });

  test('duration mode: DATA frames until DATA_END, no hash, samples every 250 ms', async (t) => {
    const s = await server(t);
    const { result } = await probe(config(s, { durationMs: 600 }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.equal(result.mode, 'duration');
    assert.equal(result.sha256Ok, null);
    assert.ok(result.bytes > 0);
    assert.ok(result.samplesMbps.length >= 1);
    assert.ok(result.transferMs !== null && result.transferMs > 300);
  });
});
