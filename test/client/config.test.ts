import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { clientTable } from '../../src/cli/options/client.js';
import { resolveOptions } from '../../src/cli/options/resolve.js';
import { clientConfigSchema, clientOptionsFromConfig, scheduleFromConfig } from '../../src/client/config.js';
import { type ClientFixture, clientFixture } from './helpers/setup.js';

let fx: ClientFixture;
before(async () => {
  fx = await clientFixture();
});
after(() => fx.cleanup());

test('flags > environment > config file > defaults; durations and percentages in either form', async () => {
  const file = join(await fx.tempDir(), 'client.yaml');
  await writeFile(file, 'server: [a.example:7443]\ncert: file.crt\nkey: file.key\ninterval: 5m\njitter: 20%\ncount: 4\n');
  const env = { NETPROBE_SERVER: 'b.example:1,c.example', NETPROBE_KEY: 'env.key', NETPROBE_COUNT: '9' };
  const config = clientConfigSchema.parse(resolveOptions(clientTable, { env, flags: { config: file, count: '2', cert: undefined } }));
  assert.deepEqual(config.server, ['b.example:1', 'c.example']);
  assert.equal(config.cert, 'file.crt');
  assert.equal(config.key, 'env.key');
  assert.equal(config.count, 2);
  assert.equal(config.intervalMs, 300_000);
  assert.equal(config.jitter, 0.2);
  assert.equal(config.outbox, './netprobe-outbox.db');
  assert.equal(config.file, '10MiB');

  const options = clientOptionsFromConfig(config, fx.client);
  assert.deepEqual(options.servers, [
    { host: 'b.example', port: 1 },
    { host: 'c.example', port: 7443 },
  ]);
  assert.deepEqual(options.schedule, { kind: 'interval', intervalMs: 300_000, jitter: 0.2 });
  assert.equal(options.probe?.timeouts?.connectMs, 10_000);
});

test('schedules: poisson with a mean, cron implied by an expression, cron without one refused', () => {
  const base = { server: ['x:1'], cert: 'c', key: 'k' };
  assert.deepEqual(scheduleFromConfig(clientConfigSchema.parse({ ...base, schedule: 'poisson', meanMs: '5m' })), {
    kind: 'poisson',
    meanMs: 300_000,
  });
  assert.deepEqual(scheduleFromConfig(clientConfigSchema.parse({ ...base, cron: '*/5 * * * *' })), {
    kind: 'cron',
    expression: '*/5 * * * *',
    timezone: undefined,
  });
  assert.throws(() => scheduleFromConfig(clientConfigSchema.parse({ ...base, schedule: 'cron' })), { code: 'NETPROBE_USAGE' });
});

test('missing server, certificate and key are named in one configuration error', () => {
  assert.throws(
    () => resolveOptions(clientTable, { env: {}, flags: {} }),
    (err: Error & { code?: string }) =>
      err.code === 'NETPROBE_USAGE' && /missing --server, --cert, --key/.test(err.message) && /NETPROBE_CERT/.test(err.message),
  );
  assert.throws(() => clientConfigSchema.parse({ server: ['x:1'], cert: 'c', key: 'k', jitter: '150%' }));
  assert.throws(
    () => clientConfigSchema.parse({ server: ['x:1'], cert: 'c', key: 'k', durationMs: '20m' }),
    'above the protocol maximum of 10 minutes',
  );
});
