import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FrameType } from '../../src/protocol/frame.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { captureLogs } from '../helpers/logs.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { makeRandomFile } from '../../src/server/catalogue.js';

describe('server', () => {
  let pki: TestPki;
  let work: string;
  let server: RunningServer;
  const logs = captureLogs();

  before(async () => {
    pki = await makePki(['alice', 'bob', ...Array.from({ length: 50 }, (_, i) => `c${i}`)]);
    work = await mkdtemp(join(tmpdir(), 'netprobe-server-'));
    await mkdir(join(work, 'files'));
    await writeFile(join(work, 'files', 'custom.bin'), makeRandomFile('custom.bin', 200_000).slice(0, 200_000));
    server = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        ca: pki.ca,
        cert: pki.serverCert,
        key: pki.serverKey,
        store: join(work, 'results.db'),
        files: join(work, 'files'),
        builtinFiles: ['64KiB', '1MiB'],
        maxFrameBytes: 256 * 1024,
        statsIntervalMs: 0,
        maxConnectionsPerClient: 4,
      },
      { logger: logs.logger },
    );
  });
  after(async () => {
    await server.close(1000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });

  const connect = (name = 'alice') => WireClient.connect(server.port, { ca: pki.ca, ...pki.clients[name]! });

  test('WELCOME lists the catalogue and the limits', async (t) => {
    const c = await connect();
    t.after(() => c.close());
    const welcome = await c.hello();
    assert.equal(welcome?.type, 'WELCOME');
    assert.ok(welcome.type === 'WELCOME');
    assert.deepEqual(welcome.files, ['1MiB', '64KiB', 'custom.bin']);
    assert.equal(welcome.maxFrameBytes, 256 * 1024);
  });

  test('50 concurrent clients download, hashes match, every report stored exactly once', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const ids = await Promise.all(
      names.map(async (name) => {
        const c = await connect(name);
        try {
          await c.hello();
          const { reply, bytes, sha256 } = await c.download('1MiB');
          assert.ok(reply?.type === 'FILE_META');
          assert.equal(bytes, reply.sizeBytes);
          assert.equal(sha256, reply.sha256);
          const result = sampleResult({ client: name, bytes });
          c.send({ type: 'REPORT', results: [result] });
          const ack = await c.next();
          assert.ok(ack?.type === 'ACK', `ack for ${name}: ${JSON.stringify(ack)}`);
          assert.deepEqual(ack.ids, [result.id]);
          // Re-sending the same result is acknowledged and not stored twice.
          c.send({ type: 'REPORT', results: [result] });
          const again = await c.next();
          assert.ok(again?.type === 'ACK');
          assert.equal(again.duplicates, 1);
          return result.id;
        } finally {
          c.close();
        }
      }),
    );
    for (const id of ids) assert.ok(await server.store.hasResult(id));
    const rows: string[] = [];
    for await (const r of server.store.iterateResults({ clients: names })) rows.push(r.client);
    assert.equal(rows.length, 50);
    assert.deepEqual([...new Set(rows)].sort(), [...names].sort());
  });

  test('stored results carry the certificate identity and the server load annotation', async (t) => {
    const c = await connect('bob');
    t.after(() => c.close());
    await c.hello();
    await c.download('custom.bin');
    const result = sampleResult({ startedAt: new Date().toISOString(), file: 'custom.bin' });
    c.send({ type: 'REPORT', results: [result] });
    assert.equal((await c.next())?.type, 'ACK');
    const stored = [];
    for await (const r of server.store.iterateResults({ clients: ['bob'] })) stored.push(r);
    const row = stored.find((r) => r.id === result.id);
    assert.equal(row?.client, 'bob');
    assert.equal(row?.serverConcurrentTransfers, 0);
    assert.ok(row?.serverOutboundMbps !== null && row!.serverOutboundMbps! > 0);
  });

  test('a report naming another client is refused, logged and not stored', async () => {
    const c = await connect('alice');
    await c.hello();
    const forged = sampleResult({ client: 'bob' });
    c.send({ type: 'REPORT', results: [forged] });
    const reply = await c.next();
    assert.ok(reply?.type === 'ERROR');
    assert.equal(reply.code, 'NETPROBE_IDENTITY');
    await c.closed();
    assert.equal(await server.store.hasResult(forged.id), false);
    assert.ok(logs.lines.some((l) => l.code === 'NETPROBE_IDENTITY' && l.client === 'alice'));
  });

  test('a client without a certificate or from another CA is refused at the handshake and logged', async () => {
    const before = server.context.metrics.handshakeFailures;
    await assert.rejects(async () => {
      const c = await WireClient.connect(server.port, { ca: pki.ca });
      await c.hello();
      await c.closed();
      throw c.error ?? new Error('closed');
    });
    await assert.rejects(async () => {
      const c = await WireClient.connect(server.port, { ca: pki.ca, cert: pki.stranger.cert, key: pki.stranger.key });
      await c.hello();
      await c.closed();
      throw c.error ?? new Error('closed');
    });
    assert.ok(server.context.metrics.handshakeFailures >= before + 2);
    assert.ok(logs.lines.some((l) => l.msg === 'TLS handshake refused'));
  });

  const hostile: [string, (c: WireClient) => void, string][] = [
    ['a path-like file name', (c) => c.send({ type: 'GET_FILE', name: '../../etc/passwd' }), 'NETPROBE_NOT_FOUND'],
    ['an absolute file name', (c) => c.send({ type: 'GET_FILE', name: '/etc/passwd' }), 'NETPROBE_NOT_FOUND'],
    ['an unknown file', (c) => c.send({ type: 'GET_FILE', name: 'nope' }), 'NETPROBE_NOT_FOUND'],
    ['an oversized frame', (c) => c.sendRaw(Buffer.from([FrameType.REPORT, 0x7f, 0xff, 0xff, 0xff])), 'NETPROBE_FRAME_TOO_LARGE'],
    ['malformed JSON', (c) => c.sendRaw(encodeFrame(FrameType.REPORT, Buffer.from('{"results": ['))), 'NETPROBE_BAD_PAYLOAD'],
    ['an invalid result', (c) => c.send({ type: 'REPORT', results: [sampleResult({ throughputMbps: -5 })] }), 'NETPROBE_BAD_PAYLOAD'],
    [
      'a result in the future',
      (c) => c.send({ type: 'REPORT', results: [sampleResult({ startedAt: '2999-01-01T00:00:00Z' })] }),
      'NETPROBE_BAD_PAYLOAD',
    ],
    ['an unknown frame type', (c) => c.sendRaw(Buffer.from([0xee, 0, 0, 0, 0])), 'NETPROBE_UNKNOWN_TYPE'],
    ['a server-only message', (c) => c.send({ type: 'ACK', ids: [], duplicates: 0 }), 'NETPROBE_UNEXPECTED_MESSAGE'],
  ];
  for (const [what, misbehave, code] of hostile) {
    test(`${what}: ERROR ${code}, connection closed, nothing stored, others still served`, async () => {
      const count = await server.store.countResults();
      const c = await connect('alice');
      await c.hello();
      misbehave(c);
      const reply = await c.next();
      assert.ok(reply?.type === 'ERROR', JSON.stringify(reply));
      assert.equal(reply.code, code);
      await c.closed();
      assert.equal(await server.store.countResults(), count);
      const honest = await connect('bob');
      await honest.hello();
      const { bytes } = await honest.download('64KiB');
      assert.equal(bytes, 65536);
      honest.close();
    });
  }

  test('HELLO with another protocol version gets a clear ERROR', async () => {
    const c = await connect();
    c.send({ type: 'HELLO', version: 99, software: 'future', capabilities: [] });
    const reply = await c.next();
    assert.ok(reply?.type === 'ERROR');
    assert.equal(reply.code, 'NETPROBE_PROTOCOL_VERSION');
    assert.match(reply.message, /version 1.*version 99/);
    await c.closed();
  });

  test('requests before HELLO are refused', async () => {
    const c = await connect();
    c.send({ type: 'GET_FILE', name: '1MiB' });
    const reply = await c.next();
    assert.ok(reply?.type === 'ERROR');
    assert.equal(reply.code, 'NETPROBE_UNEXPECTED_MESSAGE');
  });

  test('PING is answered with PONG', async (t) => {
    const c = await connect();
    t.after(() => c.close());
    await c.hello();
    c.send({ type: 'PING', seq: 7 });
    const pong = await c.next();
    assert.ok(pong?.type === 'PONG');
    assert.equal(pong.seq, 7);
  });

  test('duration mode streams DATA frames for the asked time, then DATA_END', async (t) => {
    const c = await connect();
    t.after(() => c.close());
    await c.hello();
    const t0 = performance.now();
    c.send({ type: 'GET_FILE', name: '64KiB', durationMs: 300 });
    const meta = await c.next();
    assert.ok(meta?.type === 'FILE_META' && meta.mode === 'duration');
    let bytes = 0;
    for (;;) {
      const m = await c.next();
      if (m?.type === 'DATA') bytes += m.payload.length;
      else {
        assert.ok(m?.type === 'DATA_END');
        assert.equal(m.bytes, bytes);
        break;
      }
    }
    assert.ok(performance.now() - t0 >= 290);
    assert.ok(bytes > 0);
  });

  test('connections beyond the per-client limit get ERROR NETPROBE_LIMIT', async (t) => {
    const open: WireClient[] = [];
    t.after(() => open.forEach((c) => c.close()));
    for (let i = 0; i < 4; i++) {
      const c = await connect('bob');
      await c.hello();
      open.push(c);
    }
    const extra = await connect('bob');
    const reply = await extra.next();
    assert.ok(reply?.type === 'ERROR');
    assert.equal(reply.code, 'NETPROBE_LIMIT');
  });
});

test('above the transfer limit the server answers BUSY with a retry-after', async (t) => {
  const pki = await makePki(['alice', 'bob']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-busy-'));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(work, 'r.db'),
    builtinFiles: ['64MiB', '1KiB'],
    maxConcurrentTransfers: 1,
    statsIntervalMs: 0,
  });
  t.after(async () => {
    await server.close(1000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const slow = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients.alice! });
  await slow.hello();
  // Start a big transfer and read nothing: it stays in flight.
  slow.socket.pause();
  slow.send({ type: 'GET_FILE', name: '64MiB' });
  while (server.context.load.active === 0) await new Promise((r) => setImmediate(r));
  const c = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients.bob! });
  await c.hello();
  c.send({ type: 'GET_FILE', name: '1KiB' });
  const busy = await c.next();
  assert.ok(busy?.type === 'BUSY', JSON.stringify(busy));
  assert.ok(busy.retryAfterMs > 0);
  // The connection stays usable after BUSY.
  c.send({ type: 'PING', seq: 1 });
  assert.equal((await c.next())?.type, 'PONG');
  c.close();
  slow.close();
});

test('SQLite store refuses a schema newer than it knows', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'netprobe-schema-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const path = join(work, 'x.db');
  const s = new SqliteStore(path);
  s.db.pragma('user_version = 99');
  await s.close();
  assert.throws(
    () => new SqliteStore(path),
    (err: Error & { code?: string }) => err.code === 'NETPROBE_STORAGE' && /newer/.test(err.message),
  );
});
