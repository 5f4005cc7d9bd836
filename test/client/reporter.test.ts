import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Endpoint } from '../../src/client/endpoint.js';
import { Outbox } from '../../src/client/outbox.js';
import { ServerPool } from '../../src/client/pool.js';
import { Reporter, type ReporterOptions } from '../../src/client/reporter.js';
import { openSession } from '../../src/client/session.js';
import { uuidv7 } from '../../src/client/uuid.js';
import type { MessageOf } from '../../src/protocol/messages.js';
import { sampleResult } from '../helpers/wire.js';
import { FakeServer, type FakeConnection, type FakeServerOptions } from './helpers/fake-server.js';
import { FakeTimers } from './helpers/fake-timers.js';
import { captureLogs, clientFixture, type ClientFixture } from './helpers/setup.js';

const result = (i: number) => sampleResult({ id: uuidv7(1_700_000_000_000 + i), bytes: i, client: 'alice' });

async function closedPort(): Promise<number> {
  const listener = net.createServer().listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

describe('reporter', () => {
  let fx: ClientFixture;
  before(async () => {
    fx = await clientFixture();
  });
  after(() => fx.cleanup());

  type T = { after(fn: () => unknown): void };
  async function setup(
    t: T,
    serverOptions: Omit<FakeServerOptions, 'tls'> = {},
    count = 3,
    extra: Partial<ReporterOptions> = {},
    servers?: Endpoint[],
  ) {
    const server = await FakeServer.start({ tls: fx.server, ...serverOptions });
    t.after(() => server.close());
    const outbox = Outbox.open(join(await fx.tempDir(), 'outbox.db'));
    t.after(() => outbox.close());
    for (let i = 0; i < count; i++) outbox.add(result(i));
    const timers = new FakeTimers();
    const logs = captureLogs();
    const pool = new ServerPool(servers ?? [server.endpoint], { random: () => 0.5 });
    const reporter = new Reporter({
      outbox,
      pool,
      open: async (endpoint) => (await openSession({ endpoint, tls: fx.client })).session,
      timers,
      random: () => 0.5,
      logger: logs.logger,
      ...extra,
    });
    t.after(() => reporter.stop());
    return { server, outbox, reporter, timers, logs, pool };
  }

  test('results are deleted only after the ACK', async (t) => {
    let release: (() => void) | undefined;
    const options: Omit<FakeServerOptions, 'tls'> = {};
    const reported = new Promise<void>((resolve) => {
      options.onReport = (m: MessageOf<'REPORT'>, conn: FakeConnection) => {
        release = () => server.acknowledge(m, conn);
        resolve();
      };
    });
    const { server, outbox, reporter } = await setup(t, options);
    const flushing = reporter.flush();
    await reported;
    assert.equal(outbox.count(), 3, 'sent but not yet acknowledged: still in the outbox');
    release!();
    const outcome = await flushing;
    assert.equal(outcome.error, null);
    assert.equal(outcome.sent, 3);
    assert.equal(outbox.count(), 0);
    assert.deepEqual(
      server.stored.map((r) => r.bytes),
      [0, 1, 2],
    );
  });

  test('batches respect the server maxResultsPerReport', async (t) => {
    const { server, outbox, reporter } = await setup(t, { maxResultsPerReport: 2 }, 5);
    const outcome = await reporter.flush();
    assert.equal(outcome.sent, 5);
    assert.equal(server.count('REPORT'), 3);
    assert.equal(outbox.count(), 0);
    assert.deepEqual(
      server.stored.map((r) => r.bytes),
      [0, 1, 2, 3, 4],
    );
  });

  test('a batch over the server frame limit is split, never sent oversized', async (t) => {
    const { server, reporter } = await setup(t, { maxFrameBytes: 2048 }, 8);
    const outcome = await reporter.flush();
    assert.equal(outcome.error, null, JSON.stringify(outcome.error));
    assert.equal(server.stored.length, 8);
    assert.ok(server.count('REPORT') >= 2, String(server.count('REPORT')));
  });

  test('ERROR NETPROBE_STORAGE keeps the results and backs off with jitter; the retry delivers them', async (t) => {
    let failing = true;
    const options: Omit<FakeServerOptions, 'tls'> = {
      onReport: (m, conn) =>
        failing ? conn.send({ type: 'ERROR', code: 'NETPROBE_STORAGE', message: 'disk full' }) : server.acknowledge(m, conn),
    };
    const { server, outbox, reporter, timers } = await setup(t, options, 3, { backoffBaseMs: 1000 });
    const outcome = await reporter.flush();
    assert.equal(outcome.error?.code, 'NETPROBE_STORAGE');
    assert.equal(outbox.count(), 3);
    assert.equal(server.stored.length, 0);
    assert.equal(timers.pending, 1, 'a retry is scheduled');
    assert.equal(reporter.retryAtMs, timers.now() + 750, 'base 1 s × (0.5 + 0.5 × 0.5)');
    reporter.kick();
    assert.equal(server.count('REPORT'), 1, 'kick() does not cut the back-off short');

    failing = false;
    timers.fireNext();
    const retried = await reporter.flush();
    assert.equal(outbox.count(), 0, JSON.stringify(retried));
    assert.equal(server.stored.length, 3);
  });

  test('back-off doubles per failure up to the cap, jittered into [half, full]', async (t) => {
    const { reporter } = await setup(t, {}, 0, { backoffBaseMs: 1000, backoffMaxMs: 10_000, random: () => 0.999_999 });
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => Math.round(reporter.backoffMs(n))),
      [1000, 2000, 4000, 8000, 10_000, 10_000],
    );
    const low = new Reporter({
      outbox: undefined as never,
      pool: undefined as never,
      open: undefined as never,
      backoffBaseMs: 1000,
      random: () => 0,
    });
    assert.equal(low.backoffMs(3), 2000);
  });

  test('NETPROBE_IDENTITY is logged as an error and the results are kept', async (t) => {
    const { outbox, reporter, logs } = await setup(t, {
      onReport: (_m, conn) => conn.fail('NETPROBE_IDENTITY', 'client field differs from the certificate'),
    });
    const outcome = await reporter.flush();
    assert.equal(outcome.error?.code, 'NETPROBE_IDENTITY');
    assert.equal(outbox.count(), 3);
    assert.ok(logs.lines.some((l) => l.level === 50 && l.code === 'NETPROBE_IDENTITY'));
  });

  test('fails over to the second server when the first refuses, and skips the dead one next time', async (t) => {
    const dead = { host: '127.0.0.1', port: await closedPort() };
    const live = await FakeServer.start({ tls: fx.server });
    t.after(() => live.close());
    const { outbox, reporter, pool } = await setup(t, {}, 2, {}, [dead, live.endpoint]);
    const outcome = await reporter.flush();
    assert.equal(outcome.error, null);
    assert.equal(outcome.server, `127.0.0.1:${live.port}`);
    assert.equal(live.stored.length, 2);
    assert.equal(outbox.count(), 0);
    assert.equal(pool.isDown(dead), true);
    assert.deepEqual(pool.candidates(), [live.endpoint]);
  });

  test("a measurement's own session carries the REPORT: no connection of the reporter's, closed afterwards", async (t) => {
    const { server, outbox, reporter } = await setup(t);
    const { session } = await openSession({ endpoint: server.endpoint, tls: fx.client });
    const outcome = await reporter.flush(session);
    assert.equal(outcome.error, null, JSON.stringify(outcome.error));
    assert.equal(outcome.sent, 3);
    assert.equal(outbox.count(), 0);
    assert.equal(server.count('HELLO'), 1, 'the given session only');
    assert.ok(session.closed, 'closed once used');
  });

  test('a given session the server closed meanwhile: the results go out on a new connection at once', async (t) => {
    const { server, outbox, reporter, timers } = await setup(t);
    const { session } = await openSession({ endpoint: server.endpoint, tls: fx.client });
    for (const conn of server.connections) conn.socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const outcome = await reporter.flush(session);
    assert.equal(outcome.error, null, JSON.stringify(outcome.error));
    assert.equal(outbox.count(), 0);
    assert.equal(server.count('HELLO'), 2);
    assert.equal(timers.pending, 0, 'no back-off');
  });

  test("the server's answer on a given session stands: NETPROBE_STORAGE backs off, no second connection", async (t) => {
    const { server, outbox, reporter, timers } = await setup(t, {
      onReport: (_m, conn) => conn.send({ type: 'ERROR', code: 'NETPROBE_STORAGE', message: 'disk full' }),
    });
    const { session } = await openSession({ endpoint: server.endpoint, tls: fx.client });
    const outcome = await reporter.flush(session);
    assert.equal(outcome.error?.code, 'NETPROBE_STORAGE');
    assert.equal(outbox.count(), 3);
    assert.equal(server.count('HELLO'), 1);
    assert.equal(timers.pending, 1, 'a retry is scheduled');
  });

  test('a session given while a back-off runs is closed unused: the back-off stands', async (t) => {
    const dead = { host: '127.0.0.1', port: await closedPort() };
    const live = await FakeServer.start({ tls: fx.server });
    t.after(() => live.close());
    const { outbox, reporter, timers } = await setup(t, {}, 2, {}, [dead]);
    await reporter.flush();
    assert.equal(timers.pending, 1);
    const { session } = await openSession({ endpoint: live.endpoint, tls: fx.client });
    reporter.kick(session);
    assert.ok(session.closed);
    assert.equal(live.count('REPORT'), 0);
    assert.equal(outbox.count(), 2);
  });

  test('no server answers: results kept, error reported, retry scheduled', async (t) => {
    const dead = { host: '127.0.0.1', port: await closedPort() };
    const { outbox, reporter, timers } = await setup(t, {}, 2, {}, [dead]);
    const outcome = await reporter.flush();
    assert.equal(outcome.error?.code, 'NETPROBE_CONNECT_REFUSED');
    assert.equal(outbox.count(), 2);
    assert.equal(timers.pending, 1);
  });
});
