/**
 * Faults: the server SIGKILLed at random moments while 50 clients measure (three times), a client
 * SIGKILLed while its REPORT is being committed, a corrupt outbox. Afterwards every measurement a
 * client made is in the store exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetprobeClient } from '../../src/client/client.js';
import { Outbox } from '../../src/client/outbox.js';
import type { Result } from '../../src/protocol/result.js';
import { startServer } from '../../src/server/server.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { loadTlsMaterial } from '../../src/tls/options.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { freePort, spawnCli, type ServerProcess } from './helpers.js';

const CLIENTS = 50;
const KILLS = 3;

async function workDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test(
  `SIGKILL the server ${KILLS} times at random moments under ${CLIENTS} clients: every measurement stored exactly once`,
  { timeout: 120_000 },
  async (t) => {
    const names = Array.from({ length: CLIENTS }, (_, i) => `c${i}`);
    const pki = await makePki(names);
    t.after(() => pki.cleanup());
    const work = await workDir(t);
    const store = join(work, 'results.db');
    const port = await freePort();
    const args = [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--ca',
      pki.ca,
      '--cert',
      pki.serverCert,
      '--key',
      pki.serverKey,
      '--store',
      store,
      '--builtin-files',
      '16KiB',
      '--stats-interval',
      '0',
    ];
    const start = async (): Promise<ServerProcess> => {
      const p = spawnCli(args, (l) => l.msg === 'listening' || Number(l.level) >= 50);
      await p.waitFor((l) => l.msg === 'listening');
      return p;
    };
    let server = await start();
    t.after(() => void server.child.kill('SIGKILL'));

    const made = new Map<string, { client: string; result: Result }>();
    const clients = await Promise.all(
      names.map(
        async (name) =>
          new NetprobeClient(
            {
              servers: [{ host: '127.0.0.1', port }],
              tls: await loadTlsMaterial({ ca: pki.ca, ...pki.clients[name]! }),
              file: '16KiB',
              schedule: { kind: 'interval', intervalMs: 400, jitter: 0.5 },
              outboxPath: join(work, `${name}.outbox.db`),
              reportBackoffBaseMs: 100,
              reportBackoffMaxMs: 400,
              serverRetryBaseMs: 100,
              probe: {
                idlePings: 1,
                loadedPingIntervalMs: 0,
                timeouts: { connectMs: 1_000, tlsMs: 2_000, requestMs: 2_000, responseMs: 2_000, idleMs: 2_000, totalMs: 5_000 },
              },
            },
            { onResult: (result) => made.set(result.id, { client: name, result }) },
          ),
      ),
    );
    const running = clients.map((c) => c.run());

    const kills: { atMs: number; made: number }[] = [];
    const t0 = performance.now();
    for (let i = 0; i < KILLS; i++) {
      // Waiting for a random moment is the point here, not synchronisation.
      await new Promise((r) => setTimeout(r, 600 + Math.random() * 900));
      server.child.kill('SIGKILL');
      assert.equal((await server.exited).signal, 'SIGKILL');
      kills.push({ atMs: Math.round(performance.now() - t0), made: made.size });
      server = await start();
    }
    await new Promise((r) => setTimeout(r, 800));
    const outcomes = await Promise.all(clients.map((c) => c.stop()));
    await Promise.all(running);
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);

    const failed = [...made.values()].filter((m) => m.result.error !== null).length;
    console.log(
      JSON.stringify({ kills, made: made.size, failedMeasurements: failed, unsent: outcomes.reduce((n, o) => n + o.remaining, 0) }),
    );
    assert.ok(failed > 0, 'measurements failed while the server was down (and are data too)');
    for (const o of outcomes) assert.equal(o.remaining, 0, JSON.stringify(o.error));

    const db = new SqliteStore(store, { readonly: true });
    t.after(() => db.close());
    const stored = new Map<string, string>();
    for await (const row of db.iterateResults()) {
      assert.equal(stored.has(row.id), false, `${row.id} stored twice`);
      stored.set(row.id, row.client);
    }
    assert.equal(stored.size, made.size, 'as many rows as measurements made');
    for (const [id, m] of made) assert.equal(stored.get(id), m.client, `${id} made by ${m.client} is stored under its name`);
    for (const name of names) {
      const box = Outbox.open(join(work, `${name}.outbox.db`));
      assert.equal(box.count(), 0);
      box.close();
    }
  },
);

/** A store whose commits wait at a gate, so a test can act while a REPORT is being committed. */
function gatedStore(inner: Store): { store: Store; reached: Promise<void>; open(): void } {
  let reach!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const store = Object.create(inner) as Store;
  store.insertResults = async (batches) => {
    reach();
    await gate;
    return inner.insertResults(batches);
  };
  store.insertTransfers = (transfers) => inner.insertTransfers(transfers);
  return { store, reached, open: release };
}

test('SIGKILL a client while its REPORT is being committed: its outbox resends on restart, stored once', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const work = await workDir(t);
  const sqlite = new SqliteStore(join(work, 'results.db'));
  t.after(() => sqlite.close());
  const gated = gatedStore(sqlite);
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: 'unused',
      builtinFiles: ['16KiB'],
      statsIntervalMs: 0,
    },
    { store: gated.store },
  );
  t.after(() => server.close(1000));
  const outbox = join(work, 'outbox.db');
  const clientArgs = (count: number) => [
    'client',
    '--server',
    `127.0.0.1:${server.port}`,
    '--ca',
    pki.ca,
    '--cert',
    pki.clients.alice!.cert,
    '--key',
    pki.clients.alice!.key,
    '--file',
    '16KiB',
    '--count',
    String(count),
    '--interval',
    '100ms',
    '--outbox',
    outbox,
  ];

  const first = runCli(clientArgs(1));
  await gated.reached;
  first.child.kill('SIGKILL');
  assert.equal((await first.exited).signal, 'SIGKILL');
  const madeFirst = first.lines.filter((l) => l.msg === 'measurement').map((l) => String(l.id));
  assert.equal(madeFirst.length, 1);
  gated.open();
  await server.context.committer.drain();
  // Committed, but the ACK never reached the dead client: the result is still in its outbox.
  const box = Outbox.open(outbox);
  assert.deepEqual(
    box.peek(10).map((r) => r.id),
    madeFirst,
  );
  box.close();

  const second = runCli(clientArgs(1));
  assert.equal((await second.exited).code, 0, second.stderr.join('\n'));
  assert.ok(second.lines.some((l) => l.msg === 'unsent results in the outbox: reporting them' && l.pending === 1));
  const madeSecond = second.lines.filter((l) => l.msg === 'measurement').map((l) => String(l.id));
  const all = [...madeFirst, ...madeSecond];
  assert.equal(await sqlite.countResults(), all.length);
  for (const id of all) assert.ok(await sqlite.hasResult(id));
  assert.equal(server.context.metrics.resultsDuplicate, 1, 'the resent result was a duplicate, not a second row');
  const after = Outbox.open(outbox);
  assert.equal(after.count(), 0);
  after.close();
});

test('a corrupt outbox file is moved aside with a clear message; the client goes on measuring', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const work = await workDir(t);
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(work, 'r.db'),
    builtinFiles: ['16KiB'],
    statsIntervalMs: 0,
  });
  t.after(() => server.close(1000));
  const outbox = join(work, 'outbox.db');
  await writeFile(outbox, Buffer.concat([Buffer.from('SQLite format 3\u0000'), Buffer.alloc(4096, 0xa5)]));
  const client = runCli([
    'client',
    '--server',
    `127.0.0.1:${server.port}`,
    '--ca',
    pki.ca,
    '--cert',
    pki.clients.alice!.cert,
    '--key',
    pki.clients.alice!.key,
    '--file',
    '16KiB',
    '--count',
    '1',
    '--interval',
    '100ms',
    '--outbox',
    outbox,
  ]);
  assert.equal((await client.exited).code, 0, client.stderr.join('\n'));
  const moved = client.lines.find((l) => typeof l.msg === 'string' && l.msg.includes('is corrupt: moved it to'));
  assert.ok(moved, 'an error line names the corrupt outbox and where it went');
  assert.equal(moved.level, 50);
  const aside = String(moved.movedTo);
  assert.match(aside, /outbox\.db\.corrupt-/);
  assert.ok((await stat(aside)).size > 0, 'the damaged file is kept for a human');
  const id = String(client.lines.find((l) => l.msg === 'measurement')?.id);
  assert.ok(await server.store.hasResult(id), 'the new measurement was reported');
});
