/** IPv6 end to end: the server listening on `::`, the client given `--server [::1]:PORT`, both directions, stored. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerClient } from '../../src/cli/client.js';
import type { StoredResult } from '../../src/protocol/result.js';
import type { RunningServer } from '../../src/server/server.js';
import { type ClientFixture, clientFixture, startFixtureServer } from './helpers/setup.js';

let fx: ClientFixture;
let server: RunningServer;
before(async () => {
  fx = await clientFixture(['alice']);
  server = await startFixtureServer(fx, { host: '::' });
});
after(async () => {
  await server.close(1000);
  await fx.cleanup();
});

test('netprobe client --server [::1]:PORT --direction both against a server on ::', async () => {
  const program = new Command('netprobe').exitOverride();
  registerClient(program);
  await program.parseAsync(
    [
      'client',
      '--server',
      `[::1]:${server.port}`,
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
  const rows: StoredResult[] = [];
  for await (const row of server.store.iterateResults()) rows.push(row);
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.equal(r.error, null, JSON.stringify(r.error));
    assert.equal(r.server, `[::1]:${server.port}`);
    assert.equal(r.bytes, 1024 * 1024);
    assert.ok(r.throughputMbps! > 0);
  }
  assert.deepEqual(rows.map((r) => r.direction ?? 'download').sort(), ['download', 'upload']);
});
