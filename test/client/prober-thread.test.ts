/**
 * Foreign probes from the prober thread (src/client/prober-thread.ts): timed on an event loop of
 * their own, so a busy main thread does not lengthen them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ForeignProber, openThreadProber, sameThreadProber } from '../../src/client/prober-thread.js';
import { openSession } from '../../src/client/session.js';
import { FakeServer } from './helpers/fake-server.js';
import { type ThreadServer, fakeServerThread } from './helpers/fake-server-thread.js';
import { type ClientFixture, clientFixture } from './helpers/setup.js';

/** Blocks this thread (as decrypting and hashing a fast download's payload does), ms. */
function blockMainThread(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const BLOCK_MS = 1_000;
const INTERVAL_MS = 20;

describe('prober thread', () => {
  let fx: ClientFixture;
  /** On a thread of its own: the block must not hold its answers. */
  let server: ThreadServer;
  before(async () => {
    fx = await clientFixture();
    server = await fakeServerThread(fx.server);
  });
  after(async () => {
    await server.close();
    await fx.cleanup();
  });

  /** Probes while the main thread is blocked for BLOCK_MS; the round trips measured. */
  async function probeThroughBlock(prober: ForeignProber): Promise<number[]> {
    try {
      prober.start();
      blockMainThread(BLOCK_MS);
      return await prober.stop();
    } finally {
      prober.close();
    }
  }

  test('its round trips go on, and stay short, while the main thread is blocked', async () => {
    const prober = await openThreadProber({ endpoint: server.endpoint, tls: fx.client, intervalMs: INTERVAL_MS, requestTimeoutMs: 10_000 });
    const rttsMs = await probeThroughBlock(prober);
    assert.ok(rttsMs.length >= 2, `probes sent during the block: ${rttsMs.length}`);
    assert.ok(Math.max(...rttsMs) < BLOCK_MS, `no round trip waited for the main thread: ${rttsMs.join(', ')}`);
  });

  test('from the main thread (the fallback), a round trip waits for the block to end', async () => {
    const { session } = await openSession({ endpoint: server.endpoint, tls: fx.client });
    const rttsMs = await probeThroughBlock(sameThreadProber(session, INTERVAL_MS, 10_000));
    assert.equal(rttsMs.length, 1);
    assert.ok(rttsMs[0]! >= BLOCK_MS, `${rttsMs[0]} ms`);
  });

  test('a prober that cannot connect rejects with the connection error’s code', async () => {
    const closed = await FakeServer.start({ tls: fx.server, files: [] });
    const endpoint = closed.endpoint;
    await closed.close();
    await assert.rejects(
      openThreadProber({ endpoint, tls: fx.client, intervalMs: INTERVAL_MS, requestTimeoutMs: 10_000 }),
      (err: { code?: string }) => err.code === 'NETPROBE_CONNECT_REFUSED',
    );
  });

  test('stop before start, and stop after close: no round trips', async () => {
    const prober = await openThreadProber({ endpoint: server.endpoint, tls: fx.client, intervalMs: INTERVAL_MS, requestTimeoutMs: 10_000 });
    assert.deepEqual(await prober.stop(), []);
    prober.close();
    assert.deepEqual(await prober.stop(), []);
  });
});
