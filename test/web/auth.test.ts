import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint256 } from '../../src/tls/crl.js';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { startServerWithDashboard } from '../../src/cli/serve.js';
import { resolveWebAddress } from '../../src/web/endpoint.js';
import { WireClient } from '../helpers/wire.js';
import { type WebFixture, bearer, buildAssets, request, startWebFixture } from './helpers.js';

const PROTECTED = ['/', '/metrics', '/api/snapshot', '/api/events', '/assets/dashboard.js'];

describe('web endpoint access (HTTP on loopback)', () => {
  let f: WebFixture;
  let assets: Awaited<ReturnType<typeof buildAssets>>;
  before(async () => {
    assets = await buildAssets();
    f = await startWebFixture(['alice'], {}, { assetsDir: assets.dir });
  });
  after(async () => {
    await f.close();
    await assets.cleanup();
  });

  test('/healthz answers without a token', async () => {
    const r = await request(`${f.web.url}healthz`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  });

  test('everything else is 401 without the token, and with a wrong one', async () => {
    for (const path of PROTECTED) {
      const none = await request(`${f.web.url}${path.slice(1)}`);
      assert.equal(none.status, 401, path);
      assert.match(String(none.headers['www-authenticate']), /^Bearer realm=/);
      const wrong = await request(`${f.web.url}${path.slice(1)}`, { headers: bearer(`${f.web.token}x`) });
      assert.equal(wrong.status, 401, path);
    }
    assert.equal((await request(`${f.web.url}?token=not-the-token`)).status, 401);
  });

  test('a browser without the token gets the sign-in form', async () => {
    const r = await request(f.web.url, { headers: { accept: 'text/html' } });
    assert.equal(r.status, 401);
    assert.match(r.body, /<form method="get" action="\/">/);
    assert.doesNotMatch(r.body, /dashboard\.js/);
  });

  test('the bearer token opens every route', async () => {
    for (const path of ['/', '/metrics', '/api/snapshot', '/assets/dashboard.js']) {
      const r = await request(`${f.web.url}${path.slice(1)}`, { headers: bearer(f.web.token) });
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('?token= once: a redirect that drops it from the URL and an HttpOnly same-site cookie', async () => {
    const r = await request(`${f.web.url}?token=${encodeURIComponent(f.web.token)}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/');
    const cookie = r.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    const page = await request(f.web.url, { headers: { cookie: `other=1; ${pair}` } });
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.equal((await request(`${f.web.url}api/snapshot`, { headers: { cookie: pair } })).status, 200);
  });

  test('only GET and HEAD', async () => {
    const r = await fetch(`${f.web.url}metrics`, { method: 'POST', headers: bearer(f.web.token) });
    assert.equal(r.status, 405);
  });
});

describe('web endpoint access (HTTPS)', () => {
  let f: WebFixture;
  before(async () => {
    f = await startWebFixture(['alice'], { httpTls: true, httpToken: 'a-configured-token-0123456789' });
  });
  after(() => f.close());

  test('a client certificate of the project CA is enough; one from another CA is not', async () => {
    assert.match(f.web.url, /^https:/);
    const url = `${f.web.url}metrics`;
    const withCert = await request(url, { tls: { ca: f.pki.ca, ...f.pki.clients.alice! } });
    assert.equal(withCert.status, 200);
    const stranger = await request(url, { tls: { ca: f.pki.ca, cert: f.pki.stranger.cert, key: f.pki.stranger.key } });
    assert.equal(stranger.status, 401);
    assert.equal((await request(url, { tls: { ca: f.pki.ca } })).status, 401);
    assert.equal((await request(url, { tls: { ca: f.pki.ca }, headers: bearer('a-configured-token-0123456789') })).status, 200);
  });

  test('the HTTPS cookie is Secure', async () => {
    const r = await request(`${f.web.url}?token=a-configured-token-0123456789`, { tls: { ca: f.pki.ca } });
    assert.match(r.headers['set-cookie']?.[0] ?? '', /; Secure/);
  });
});

test('HTTPS certificate login honours the deny list and the CRL, reloads included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-web-revoked-'));
  const denyList = join(dir, 'deny.txt');
  // The fixture's PKI is made inside startWebFixture: start with an empty list, then revoke.
  await writeFile(denyList, '# none yet\n');
  const f = await startWebFixture(['alice', 'bob'], { httpTls: true, httpToken: 'a-configured-token-0123456789', denyList });
  t.after(async () => {
    await f.close();
    await rm(dir, { recursive: true, force: true });
  });
  const url = `${f.web.url}metrics`;
  const as = (name: string) => request(url, { tls: { ca: f.pki.ca, ...f.pki.clients[name]! } });
  assert.equal((await as('bob')).status, 200);
  await writeFile(denyList, `${fingerprint256(await readFile(f.pki.clients.bob!.cert))}\n`);
  await f.server.reloadRevocations();
  assert.equal((await as('bob')).status, 401, 'a revoked certificate no longer opens the dashboard');
  assert.equal((await as('alice')).status, 200);
  // The token still works for the operator.
  assert.equal(
    (await request(url, { tls: { ca: f.pki.ca, ...f.pki.clients.bob! }, headers: bearer('a-configured-token-0123456789') })).status,
    200,
  );
});

test('/healthz is 503 while the server shuts down', async (t) => {
  const f = await startWebFixture(['alice']);
  t.after(() => f.close());
  const c = await WireClient.connect(f.server.port, { ca: f.pki.ca, ...f.pki.clients.alice! });
  t.after(() => c.close());
  await c.hello();
  // A long duration-mode transfer keeps the shutdown waiting.
  c.send({ type: 'GET_FILE', name: '64KiB', durationMs: 60_000 });
  assert.equal((await c.next())?.type, 'FILE_META');
  const closing = f.server.close(60_000);
  const r = await request(`${f.web.url}healthz`);
  assert.equal(r.status, 503);
  assert.deepEqual(JSON.parse(r.body), { status: 'shutting down' });
  c.close();
  await closing;
});

test('the generated token is in no log line; it is handed once to announceToken', async (t) => {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({ write: (chunk: Buffer, _e, cb) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), cb()) }),
  );
  const { makePki } = await import('../helpers/pki.js');
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const announced: string[] = [];
  const server = await startServerWithDashboard(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: ':memory:',
      builtinFiles: ['64KiB'],
      statsIntervalMs: 0,
      http: 0,
    },
    { logger, announceToken: (url, token, tokenFile) => announced.push(`${url}?token=${token} ${tokenFile ?? 'no file'}`) },
  );
  t.after(() => server.close(1000));
  const token = server.web!.token;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(announced, [`${server.web!.url}?token=${token} no file`], 'an in-memory store has no directory to keep the token in');
  await request(`${server.web!.url}metrics`, { headers: bearer(token) });
  const c = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients.alice! });
  c.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: [] });
  await c.next();
  c.close();
  assert.deepEqual(
    lines.filter((l) => l.includes(token)),
    [],
  );
  assert.ok(lines.some((l) => /dashboard: http:\/\/127\.0\.0\.1:\d+\/ \(generated token for this run/.test(l)));
});

test('the http setting: loopback by default, TLS required elsewhere', () => {
  assert.deepEqual(resolveWebAddress(9090, false), { host: '127.0.0.1', port: 9090, loopback: true });
  assert.deepEqual(resolveWebAddress('[::1]:0', false), { host: '::1', port: 0, loopback: true });
  assert.equal(resolveWebAddress('0.0.0.0:9090', true).loopback, false);
  assert.throws(() => resolveWebAddress('0.0.0.0:9090', false), { code: 'NETPROBE_CONFIG', message: /needs --http-tls/ });
  assert.throws(() => resolveWebAddress('localhost', false), { code: 'NETPROBE_CONFIG' });
  assert.throws(() => resolveWebAddress('127.0.0.1:70000', false), { code: 'NETPROBE_CONFIG' });
});

test('a dashboard port already in use stops the start with NETPROBE_CONFIG, naming the address', async (t) => {
  const f = await startWebFixture(['alice']);
  t.after(() => f.close());
  await assert.rejects(
    startServerWithDashboard({
      host: '127.0.0.1',
      port: 0,
      ca: f.pki.ca,
      cert: f.pki.serverCert,
      key: f.pki.serverKey,
      store: ':memory:',
      builtinFiles: ['64KiB'],
      statsIntervalMs: 0,
      http: `127.0.0.1:${f.web.port}`,
    }),
    { code: 'NETPROBE_CONFIG', message: new RegExp(`127\\.0\\.0\\.1:${f.web.port} for the dashboard`) },
  );
});
