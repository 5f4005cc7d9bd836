/**
 * The per-client connection limit, server-wide (src/server/slots.ts). The counts alone, then two
 * workers accepting their own connections: a client's burst may land on one worker, so the limit
 * is the primary's, never one per worker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSession } from '../../src/client/session.js';
import { startServer } from '../../src/server/server.js';
import { SharedSlots, SlotCounts } from '../../src/server/slots.js';
import { loadTlsMaterial } from '../../src/tls/options.js';
import { makePki } from '../helpers/pki.js';
import { WireClient } from '../helpers/wire.js';

test('SlotCounts: at most the limit per client; a slot given back can be taken again', () => {
  const counts = new SlotCounts(2);
  assert.deepEqual([counts.take('a'), counts.take('a'), counts.take('a'), counts.take('b')], [true, true, false, true]);
  counts.give('a');
  assert.equal(counts.take('a'), true);
  counts.give('a');
  counts.give('a');
  counts.give('b');
  assert.equal(counts.clients, 0, 'clients without a slot are forgotten');
});

test('SharedSlots: two workers share one limit; a worker that exits gives back what it held', () => {
  const slots = new SharedSlots<'w1' | 'w2'>(3);
  assert.deepEqual([slots.take('w1', 'a'), slots.take('w2', 'a'), slots.take('w1', 'a')], [true, true, true]);
  assert.equal(slots.take('w2', 'a'), false, 'the limit is server-wide');
  assert.equal(slots.take('w1', 'a'), false);
  // A give for a slot the worker does not hold changes nothing (it cannot free another worker's).
  slots.give('w2', 'b');
  slots.give('w2', 'a');
  slots.give('w2', 'a');
  assert.equal(slots.heldBy('a'), 2);
  assert.equal(slots.take('w2', 'a'), true);
  slots.release('w1');
  assert.equal(slots.heldBy('a'), 1);
  assert.deepEqual([slots.take('w2', 'a'), slots.take('w2', 'a'), slots.take('w2', 'a')], [true, true, false]);
});

const settled = async (port: number, paths: { ca: string; cert: string; key: string }, n: number) =>
  Promise.all(
    Array.from({ length: n }, async () => {
      const c = await WireClient.connect(port, paths);
      const reply = await c.hello();
      return { c, admitted: reply?.type === 'WELCOME', code: reply?.type === 'ERROR' ? reply.code : undefined };
    }),
  );

test('two workers accepting their own connections: a client gets its whole limit at once, never more server-wide', async (t) => {
  const pki = await makePki(['alice']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-slots-'));
  const limit = 14;
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(work, 'r.db'),
    builtinFiles: ['64KiB'],
    statsIntervalMs: 0,
    workers: 2,
    maxConnectionsPerClient: limit,
  });
  t.after(async () => {
    await server.close(2000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const alice = { ca: pki.ca, ...pki.clients.alice! };
  const tls = await loadTlsMaterial(alice);
  const allClosed = async () => {
    while (server.context.metrics.openConnections > 0) await new Promise((r) => setTimeout(r, 20));
  };
  // Which worker accepts is the kernel's choice: a burst often lands on one. With a per-worker share
  // (limit/2 each) 4-9 of 14 were refused; with each worker admitting the whole limit, 2 × 14.
  for (let round = 0; round < 3; round++) {
    const opened = await Promise.allSettled(
      Array.from({ length: limit }, () => openSession({ endpoint: { host: '127.0.0.1', port: server.port }, tls })),
    );
    const refused = opened.filter((o) => o.status === 'rejected').map((o) => String((o.reason as { code?: string }).code));
    for (const o of opened) if (o.status === 'fulfilled') o.value.session.close();
    assert.deepEqual(refused, [], `round ${round}`);
    await allClosed();
  }
  for (let round = 0; round < 2; round++) {
    const opened = await settled(server.port, alice, 2 * limit + 6);
    const admitted = opened.filter((o) => o.admitted).length;
    for (const o of opened) o.c.close();
    assert.equal(admitted, limit, `round ${round}: admitted server-wide`);
    for (const o of opened.filter((x) => !x.admitted)) assert.equal(o.code, 'NETPROBE_LIMIT');
    // Every slot comes back when its connection closes: the next round gets the whole limit again.
    await allClosed();
  }
});
