/** The real server and three real clients started through the CLI (`--interval`, `--count`). */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerClient } from '../../src/cli/client.js';
import { Outbox } from '../../src/client/outbox.js';
import type { StoredResult } from '../../src/protocol/result.js';
import type { RunningServer } from '../../src/server/server.js';
import { type ClientFixture, clientFixture, startFixtureServer } from './helpers/setup.js';

const NAMES = ['alice', 'bob', 'carol'];
const COUNT = 3;

let fx: ClientFixture;
let server: RunningServer;
before(async () => {
  fx = await clientFixture(NAMES);
  server = await startFixtureServer(fx, { logLevel: 'info' });
});
after(async () => {
  await server.close(1000);
  await fx.cleanup();
});

test('3 clients × --count 3 on an --interval: every measurement arrives exactly once', async () => {
  const dir = await fx.tempDir();
  const outboxes = NAMES.map((name) => join(dir, `${name}.db`));
  await Promise.all(
    NAMES.map(async (name, i) => {
      const program = new Command('netprobe').exitOverride();
      registerClient(program);
      await program.parseAsync(
        [
          'client',
          '--server',
          `127.0.0.1:${server.port}`,
          '--ca',
          fx.pki.ca,
          '--cert',
          fx.pki.clients[name]!.cert,
          '--key',
          fx.pki.clients[name]!.key,
          '--file',
          '1MiB',
          '--interval',
          '150ms',
          '--jitter',
          '50%',
          '--count',
          String(COUNT),
          '--outbox',
          outboxes[i]!,
          '--log-level',
          'silent',
        ],
        { from: 'user' },
      );
    }),
  );

  const stored: StoredResult[] = [];
  for await (const row of server.store.iterateResults()) stored.push(row);
  assert.equal(stored.length, NAMES.length * COUNT);
  assert.equal(new Set(stored.map((r) => r.id)).size, stored.length, 'no duplicates');
  for (const name of NAMES) {
    const mine = stored.filter((r) => r.client === name);
    assert.equal(mine.length, COUNT, `${name}: ${COUNT} results`);
    for (const r of mine) {
      assert.equal(r.error, null, JSON.stringify(r.error));
      assert.equal(r.sha256Ok, true);
      assert.equal(r.bytes, 1024 * 1024);
      assert.equal(r.server, `127.0.0.1:${server.port}`);
    }
  }
  assert.equal(server.context.metrics.resultsDuplicate, 0);
  for (const path of outboxes) {
    const box = Outbox.open(path);
    assert.equal(box.count(), 0, `${path} is empty: everything was acknowledged`);
    box.close();
  }
});
