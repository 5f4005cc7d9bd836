/**
 * A store that fails: the database locked by another writer, and the disk full (SQLite's
 * SQLITE_FULL, by capping the database's page count). Reports get ERROR NETPROBE_STORAGE and stay in
 * the client's outbox, nothing is acknowledged that is not stored, and the same server process
 * recovers as soon as the store does.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { NetprobeClient } from '../../src/client/client.js';
import type { Result } from '../../src/protocol/result.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import type { SqliteStore } from '../../src/store/sqlite.js';
import { loadTlsMaterial } from '../../src/tls/options.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { captureLogs } from '../security/helpers.js';

async function setup(t: {
  after(fn: () => unknown): void;
}): Promise<{ pki: TestPki; work: string; server: RunningServer; logs: ReturnType<typeof captureLogs> }> {
  const pki = await makePki(['alice']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-store-'));
  const logs = captureLogs();
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: join(work, 'results.db'),
      builtinFiles: ['16KiB'],
      statsIntervalMs: 0,
      storeBusyTimeoutMs: 100,
    },
    { logger: logs.logger },
  );
  t.after(async () => {
    await server.close(1000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  return { pki, work, server, logs };
}

test('database locked by another writer: ERROR NETPROBE_STORAGE, results kept in the outbox, delivered once the lock is gone', async (t) => {
  const { pki, work, server, logs } = await setup(t);
  const made: Result[] = [];
  const client = new NetprobeClient(
    {
      servers: [{ host: '127.0.0.1', port: server.port }],
      tls: await loadTlsMaterial({ ca: pki.ca, ...pki.clients.alice! }),
      file: '16KiB',
      schedule: { kind: 'interval', intervalMs: 60_000, jitter: 0 },
      outboxPath: join(work, 'outbox.db'),
      reportBackoffBaseMs: 60_000,
      probe: { idlePings: 1, loadedPingIntervalMs: 0 },
    },
    { onResult: (r) => made.push(r) },
  );
  t.after(() => client.stop());

  const locker = new Database(join(work, 'results.db'));
  t.after(() => locker.close());
  locker.exec('BEGIN EXCLUSIVE');
  for (let i = 0; i < 3; i++) await client.measure();
  const failed = await client.flush();
  assert.equal(failed.error?.code, 'NETPROBE_STORAGE');
  assert.equal(failed.sent, 0, 'nothing acknowledged');
  assert.equal(client.outbox.count(), 3, 'every result still in the outbox');
  assert.equal((locker.prepare('SELECT count(*) AS n FROM results').get() as { n: number }).n, 0);
  assert.ok(logs.lines.some((l) => l.msg === 'report not stored' && /locked|busy/i.test(String(l.err))));

  locker.exec('COMMIT');
  const recovered = await client.flush();
  assert.equal(recovered.error, null);
  assert.equal(recovered.sent, 3);
  assert.equal(client.outbox.count(), 0);
  assert.equal(await server.store.countResults(), 3);
  for (const r of made) assert.ok(await server.store.hasResult(r.id));
});

test('disk full (SQLITE_FULL): ERROR NETPROBE_STORAGE, no ACK, the connection stays honest; storing resumes when space returns', async (t) => {
  const { pki, server, logs } = await setup(t);
  const db = (server.store as SqliteStore).db;
  const connect = () => WireClient.connect(server.port, { ca: pki.ca, ...pki.clients.alice! });
  const c = await connect();
  t.after(() => c.close());
  await c.hello();
  // Warm the schema pages, then allow no growth: the next write that needs a page fails like a full disk.
  c.send({ type: 'REPORT', results: [sampleResult()] });
  assert.equal((await c.next())?.type, 'ACK');
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);

  const batch = Array.from({ length: 200 }, () => sampleResult({ samplesMbps: Array(400).fill(123.456) }));
  c.send({ type: 'REPORT', results: batch });
  const refused = await c.next();
  assert.ok(refused?.type === 'ERROR', JSON.stringify(refused));
  assert.equal(refused.code, 'NETPROBE_STORAGE');
  assert.ok(logs.lines.some((l) => l.msg === 'report not stored' && /full/i.test(String(l.err))));
  for (const r of batch) assert.equal(await server.store.hasResult(r.id), false, 'nothing of a refused batch is stored');

  db.pragma('max_page_count = 1073741823');
  c.send({ type: 'REPORT', results: batch });
  const ack = await c.next();
  assert.ok(ack?.type === 'ACK', JSON.stringify(ack));
  assert.equal(ack.ids.length, batch.length);
  for (const r of batch) assert.ok(await server.store.hasResult(r.id));
  assert.equal(await server.store.countResults(), batch.length + 1);
});
