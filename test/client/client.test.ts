import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ClientOptions, NetprobeClient } from '../../src/client/client.js';
import type { Result } from '../../src/protocol/result.js';
import { FakeServer, type FakeServerOptions, fakeFile } from './helpers/fake-server.js';
import { FakeTimers } from './helpers/fake-timers.js';
import { captureLogs, clientFixture, type ClientFixture } from './helpers/setup.js';

const FILE = fakeFile('1MiB', 1024 * 1024);

async function closedPort(): Promise<number> {
  const listener = net.createServer().listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

async function drive(timers: FakeTimers, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  for (;;) {
    await Promise.race([timers.whenTimerSet(), done]);
    if (finished) return;
    timers.fireNext();
  }
}

describe('client', () => {
  let fx: ClientFixture;
  before(async () => {
    fx = await clientFixture();
  });
  after(() => fx.cleanup());

  type T = { after(fn: () => unknown): void };
  async function fakeServer(t: T, options: Omit<FakeServerOptions, 'tls'> = {}): Promise<FakeServer> {
    const server = await FakeServer.start({ tls: fx.server, files: [FILE], ...options });
    t.after(() => server.close());
    return server;
  }
  async function client(t: T, servers: ClientOptions['servers'], extra: Partial<ClientOptions> = {}, timers = new FakeTimers()) {
    const logs = captureLogs();
    const seen: Result[] = [];
    const c = new NetprobeClient(
      {
        servers,
        tls: fx.client,
        file: FILE.name,
        schedule: { kind: 'interval', intervalMs: 60_000, jitter: 0.1 },
        outboxPath: join(await fx.tempDir(), 'outbox.db'),
        probe: { idlePings: 2 },
        ...extra,
      },
      { logger: logs.logger, timers, onResult: (r) => seen.push(r) },
    );
    t.after(() => c.stop());
    return { c, logs, timers, seen };
  }

  test('fails over to the second server when the first refuses; the dead one is retried later, not every run', async (t) => {
    const dead = { host: '127.0.0.1', port: await closedPort() };
    const live = await fakeServer(t);
    const { c, logs, seen } = await client(t, [dead, live.endpoint]);

    const first = await c.measure();
    assert.deepEqual(
      first.map((r) => r.error?.code ?? 'ok'),
      ['NETPROBE_CONNECT_REFUSED', 'ok'],
    );
    assert.equal(first[0]!.server, `127.0.0.1:${dead.port}`);
    assert.equal(first[1]!.server, `127.0.0.1:${live.port}`);
    assert.equal(first[1]!.client, 'alice');
    assert.deepEqual(seen, first);
    assert.ok(logs.lines.some((l) => l.component === 'client' && l.msg === 'server not answering: trying the next one'));

    const second = await c.measure();
    assert.deepEqual(
      second.map((r) => r.server),
      [`127.0.0.1:${live.port}`],
      'the dead server waits for its retry time',
    );

    const outcome = await c.flush();
    assert.equal(outcome.error, null);
    assert.equal(c.outbox.count(), 0);
    assert.deepEqual(
      live.stored.map((r) => r.id).sort(),
      [...first, ...second].map((r) => r.id).sort(),
      'the failed attempt is reported too',
    );
  });

  test('--interval with --count: every measurement reported exactly once, then stop', async (t) => {
    const server = await fakeServer(t);
    const { c, timers } = await client(t, [server.endpoint], { count: 3 });
    const run = c.run();
    await drive(timers, run);
    const outcome = await c.stop();
    assert.deepEqual(await run, { runs: 3, skipped: 0 }, JSON.stringify(outcome));
    assert.equal(server.stored.length, 3);
    assert.equal(new Set(server.stored.map((r) => r.id)).size, 3);
    assert.ok(server.stored.every((r) => r.error === null && r.bytes === FILE.data.length));
  });

  test('results stay in the outbox while the server cannot store them and are sent after a restart', async (t) => {
    const refusing = await fakeServer(t, {
      onReport: (_m, conn) => conn.send({ type: 'ERROR', code: 'NETPROBE_STORAGE', message: 'disk full' }),
    });
    const outboxPath = join(await fx.tempDir(), 'outbox.db');
    const first = await client(t, [refusing.endpoint], { outboxPath });
    const made = await first.c.measure();
    const outcome = await first.c.stop();
    assert.equal(outcome.error?.code, 'NETPROBE_STORAGE');
    assert.equal(outcome.remaining, 1);
    assert.equal(refusing.stored.length, 0);

    const honest = await fakeServer(t);
    const second = await client(t, [honest.endpoint], { outboxPath, count: 1 });
    const flushed = await second.c.flush();
    assert.equal(flushed.sent, 1);
    assert.deepEqual(
      honest.stored.map((r) => r.id),
      [made[0]!.id],
    );
  });

  test('a full outbox: the new result is refused with an error log; the stored ones are kept', async (t) => {
    const refusing = await fakeServer(t, { onReport: (_m, conn) => conn.send({ type: 'ERROR', code: 'NETPROBE_STORAGE', message: 'no' }) });
    const { c, logs } = await client(t, [refusing.endpoint], { outboxCapacity: 1 });
    const [kept] = await c.measure();
    const [refused] = await c.measure();
    assert.ok(kept && refused);
    assert.equal(c.outbox.count(), 1);
    assert.deepEqual(
      c.outbox.peek(5).map((r) => r.id),
      [kept.id],
    );
    assert.ok(logs.lines.some((l) => l.level === 50 && l.code === 'NETPROBE_LIMIT' && l.id === refused.id));
  });

  test('stop() finishes the running measurement, stores it and tries one last report', async (t) => {
    let began: (() => void) | undefined;
    const begun = new Promise<void>((resolve) => (began = resolve));
    const server = await fakeServer(t, {
      onGetFile: (m, conn) => {
        began!();
        return conn.serveFile(m.name);
      },
    });
    const { c, timers } = await client(t, [server.endpoint], { schedule: { kind: 'interval', intervalMs: 60_000, jitter: 0 } });
    const running = c.run();
    await begun;
    const outcome = await c.stop();
    const stats = await running;
    assert.deepEqual(stats, { runs: 1, skipped: 0 });
    assert.equal(outcome.remaining, 0);
    assert.equal(server.stored.length, 1);
    assert.equal(server.stored[0]!.error, null);
    assert.equal(timers.pending, 0);
  });
});
