/**
 * The dashboard's settings are declared once, in web/config.ts: the server's schema does not have
 * them, `netprobe server`'s option table splits into exactly the two, and `startServer` given one
 * refuses to start (it used to start the server and silently no dashboard), naming the function that
 * takes it. startServerWithDashboard with `http` is covered by the dashboard tests (test/web/).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { serverCommandSchema, serverPart } from '../../src/cli/serve.js';
import { resolveOptions } from '../../src/cli/options/resolve.js';
import { serverTable } from '../../src/cli/options/server.js';
import { serverConfigSchema } from '../../src/server/config.js';
import { startServer } from '../../src/server/server.js';
import { WEB_SETTING_KEYS } from '../../src/web/config.js';
import { makePki } from '../helpers/pki.js';
import { tempDir } from './helpers.js';

test('the dashboard settings are web/config.ts’s only; netprobe server’s options are the server’s and the dashboard’s', () => {
  const serverKeys = Object.keys(serverConfigSchema.shape);
  assert.deepEqual(
    WEB_SETTING_KEYS.filter((k) => serverKeys.includes(k)),
    [],
  );
  assert.ok(WEB_SETTING_KEYS.includes('http') && WEB_SETTING_KEYS.includes('httpToken'));
  // the command's options resolve into the two schemas together, not into the server's alone
  const resolved = resolveOptions(serverTable, { flags: { http: '127.0.0.1:9090', httpTls: true }, env: {} });
  assert.equal(serverCommandSchema.safeParse(resolved).success, true);
  assert.equal(serverConfigSchema.safeParse(resolved).success, false);
  // what startServer gets from the command's settings: no dashboard setting, the token above all
  const part = serverPart(serverCommandSchema.parse({ http: '127.0.0.1:0', httpToken: 'a-configured-token-0123456789' }));
  assert.deepEqual(
    Object.keys(part).filter((k) => (WEB_SETTING_KEYS as string[]).includes(k)),
    [],
  );
  assert.deepEqual(serverConfigSchema.parse(part), part);
});

test('startServer given a dashboard setting refuses to start rather than start without the dashboard', async (t) => {
  const pki = await makePki([]);
  t.after(() => pki.cleanup());
  const dir = await tempDir(t);
  const base = {
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(dir, 'r.db'),
    statsIntervalMs: 0,
    logLevel: 'silent' as const,
  };
  for (const extra of [{ http: '127.0.0.1:0' }, { httpToken: 'a-configured-token-0123456789' }]) {
    await assert.rejects(startServer({ ...base, ...extra } as Parameters<typeof startServer>[0]), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NETPROBE_CONFIG');
      assert.match(err.message, new RegExp(`Unrecognized key: "${Object.keys(extra)[0]}"`));
      assert.match(err.message, /starts no dashboard; for \w+ use startServerWithDashboard \(cli\/serve\.ts\)/);
      return true;
    });
  }
  // the same settings without the dashboard's start a server
  const server = await startServer(base);
  t.after(() => server.close());
  assert.ok(server.port > 0);
});
