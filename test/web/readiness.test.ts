/**
 * Honest health: /healthz says the process is alive; /readyz says the server can take work (TLS
 * port listening, store writable) and otherwise answers 503 with the reason. A generated dashboard
 * token is kept in a 0600 file next to the store and survives a restart.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/log.js';
import { Catalogue } from '../../src/server/catalogue.js';
import { createContext } from '../../src/server/context.js';
import { GroupCommitter } from '../../src/server/ingest.js';
import { openStore } from '../../src/store/open.js';
import { loadTlsMaterial } from '../../src/tls/options.js';
import { dashboardConfig, serverCommandSchema, serverPart } from '../../src/cli/serve.js';
import { startWeb } from '../../src/web/index.js';
import { TOKEN_FILE_NAME } from '../../src/web/token-file.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { request, startWebFixture } from './helpers.js';

const json = async (url: string) => {
  const r = await request(url);
  return { status: r.status, body: JSON.parse(r.body) as { status: string; reason?: string } };
};

test('/readyz is 503 with the reason until the TLS port listens; /healthz is 200 all along', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-ready-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = serverCommandSchema.parse({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(dir, 'r.db'),
    http: '127.0.0.1:0',
  });
  const store = await openStore(config.store);
  t.after(() => store.close());
  // The state a server is in between starting its dashboard and its TLS listener.
  const ctx = createContext(serverPart(config), { catalogue: new Catalogue(), committer: new GroupCommitter(store), now: Date.now });
  const observed = { view: ctx, store, material: await loadTlsMaterial(config), revokedBy: () => undefined };
  const web = await startWeb(observed, dashboardConfig({ ...config, http: '127.0.0.1:0' }), { logger: silentLogger });
  t.after(() => web.close());
  assert.deepEqual(await json(`${web.url}healthz`), { status: 200, body: { status: 'ok' } });
  assert.deepEqual(await json(`${web.url}readyz`), {
    status: 503,
    body: { status: 'not ready', reason: 'the TLS port is not listening yet' },
  });
});

test('/readyz: 200 once serving, 503 while the store cannot take a write, 503 during shutdown', async (t) => {
  const f = await startWebFixture(['alice'], { storeBusyTimeoutMs: 100 });
  t.after(() => f.close());
  assert.deepEqual(await json(`${f.web.url}readyz`), { status: 200, body: { status: 'ready' } });

  // Another process holds the write lock (a migration, a long import): no REPORT could commit now.
  const other = new Database(f.server.store.location);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const locked = await json(`${f.web.url}readyz`);
  assert.equal(locked.status, 503);
  assert.match(locked.body.reason ?? '', /^the store is not writable: .*locked/);
  assert.equal((await json(`${f.web.url}healthz`)).status, 200, 'alive all the same');
  other.exec('ROLLBACK');
  assert.equal((await json(`${f.web.url}readyz`)).status, 200);

  f.server.context.shuttingDown = true;
  assert.deepEqual(await json(`${f.web.url}readyz`), { status: 503, body: { status: 'not ready', reason: 'shutting down' } });
  f.server.context.shuttingDown = false;
});

test('a generated dashboard token is written once (0600, next to the store), reused after a restart, never logged', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-token-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    '1',
    '--builtin-files',
    '1KiB',
    '--stats-interval',
    '0',
    '--http',
    '0',
    '--store',
    join(dir, 'results.db'),
    '--ca',
    pki.ca,
    '--cert',
    pki.serverCert,
    '--key',
    pki.serverKey,
  ];
  const tokenFile = join(dir, TOKEN_FILE_NAME);

  const run = async () => {
    const server = runCli(args);
    t.after(() => void server.child.kill('SIGKILL'));
    const dashboard = await server.waitFor((l) => l.tokenFile !== undefined);
    await server.waitFor((l) => l.msg === 'listening');
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const metrics = await request(`${String(dashboard.url)}metrics`, { headers: { authorization: `Bearer ${token}` } });
    server.child.kill('SIGTERM');
    assert.equal((await server.exited).code, 0);
    assert.equal(dashboard.tokenFile, tokenFile);
    assert.equal(metrics.status, 200);
    // Not a terminal (a service): stderr names the file, not the token; no log line carries it.
    assert.ok(
      server.stderr.some((l) => l.includes(`token in ${tokenFile}`)),
      server.stderr.join('\n'),
    );
    assert.ok(!server.stderr.some((l) => l.includes(token)));
    assert.ok(!server.lines.some((l) => JSON.stringify(l).includes(token)));
    return token;
  };

  const first = await run();
  assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
  const second = await run();
  assert.equal(second, first, 'the restarted server kept its token');
});
