import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { X509Certificate } from 'node:crypto';
import { NetprobeClient } from '../../src/client/client.js';
import { TlsSessions } from '../../src/client/connect.js';
import { openSession } from '../../src/client/session.js';
import { startServer } from '../../src/server/server.js';
import { fingerprint256 } from '../../src/tls/crl.js';
import { DEFAULT_TLS_SESSION_LIFETIME_MS, loadTlsMaterial, serverTlsOptions } from '../../src/tls/options.js';
import { createCa, issueCert } from '../../src/tls/pki.js';
import { makePki } from '../helpers/pki.js';
import { CLI, runCli } from '../helpers/process.js';

async function setup(t: test.TestContext, workers: number, extra: { denyList?: string; tlsSessionLifetimeMs?: number } = {}) {
  const pki = await makePki(['alice', 'bob']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-resume-'));
  const denyList = join(work, 'deny.txt');
  await writeFile(denyList, '');
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(work, 'r.db'),
    builtinFiles: ['64KiB'],
    statsIntervalMs: 0,
    workers,
    denyList: extra.denyList ?? denyList,
    ...(extra.tlsSessionLifetimeMs === undefined ? {} : { tlsSessionLifetimeMs: extra.tlsSessionLifetimeMs }),
  });
  t.after(async () => {
    await server.close(2000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const tls = await loadTlsMaterial({ ca: pki.ca, ...pki.clients.alice! });
  return { pki, work, server, tls, denyList, endpoint: { host: '127.0.0.1', port: server.port } };
}

test('a scheduled client resumes its TLS session between runs and makes a full handshake every n-th run', async (t) => {
  const { server, tls, work } = await setup(t, 1);
  const client = new NetprobeClient({
    servers: [{ host: '127.0.0.1', port: server.port }],
    tls,
    file: '64KiB',
    schedule: { kind: 'interval', intervalMs: 1_000, jitter: 0 },
    outboxPath: join(work, 'outbox.db'),
    probe: { idlePings: 1, loadedPingIntervalMs: 0 },
    fullHandshakeEvery: 3,
  });
  t.after(() => client.stop());
  const resumed: (boolean | null | undefined)[] = [];
  for (let i = 0; i < 7; i++) {
    const [result] = await client.measure();
    assert.equal(result?.error, null, JSON.stringify(result?.error));
    resumed.push(result?.tlsResumed);
  }
  assert.deepEqual(resumed, [false, true, true, false, true, true, false]);
  assert.equal((await client.flush()).remaining, 0);
  // Stored with the result.
  const stored = [];
  for await (const r of server.store.iterateResults({})) stored.push(r.tlsResumed);
  assert.deepEqual(stored.sort(), [...resumed].sort());
});

test('a client started anew for each run (`client --once` from a timer) resumes the session the last run kept in its outbox; the full-handshake count goes on across runs', async (t) => {
  const { server, pki, work } = await setup(t, 1);
  const outbox = join(work, 'outbox.db');
  const once = async (name: 'alice' | 'bob') => {
    const { cert, key } = pki.clients[name]!;
    await promisify(execFile)(process.execPath, [
      CLI,
      'client',
      ...['--server', `127.0.0.1:${server.port}`, '--ca', pki.ca, '--cert', cert, '--key', key],
      ...['--outbox', outbox, '--file', '64KiB', '--full-handshake-every', '3', '--once'],
    ]);
  };
  const resumed = async () => {
    const stored: { at: number; resumed: boolean | null | undefined; client: string }[] = [];
    for await (const r of server.store.iterateResults({}))
      stored.push({ at: Date.parse(r.startedAt), resumed: r.tlsResumed, client: r.client });
    return stored.sort((a, b) => a.at - b.at).map((r) => `${r.client}:${r.resumed}`);
  };
  for (let i = 0; i < 4; i++) await once('alice');
  assert.deepEqual(await resumed(), ['alice:false', 'alice:true', 'alice:true', 'alice:false']);
  // Another certificate with the same outbox: alice's ticket is not offered (it would resume as alice).
  await once('bob');
  assert.deepEqual((await resumed()).slice(4), ['bob:false']);
});

test('--full-handshake-every 1: no run resumes', async (t) => {
  const { server, tls, work } = await setup(t, 1);
  const client = new NetprobeClient({
    servers: [{ host: '127.0.0.1', port: server.port }],
    tls,
    file: '64KiB',
    schedule: { kind: 'interval', intervalMs: 1_000, jitter: 0 },
    outboxPath: join(work, 'outbox.db'),
    probe: { idlePings: 1, loadedPingIntervalMs: 0 },
    fullHandshakeEvery: 1,
  });
  t.after(() => client.stop());
  for (let i = 0; i < 3; i++) assert.equal((await client.measure())[0]?.tlsResumed, false);
});

test('with two workers a session issued by one process resumes on the other (shared ticket keys and session context)', async (t) => {
  // The server in processes of its own, so this test can choose which one accepts: a stopped
  // process (SIGSTOP) accepts nothing, and the other takes the connection from the shared socket.
  const pki = await makePki(['alice']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-resume-cli-'));
  const cli = runCli([
    'server',
    ...['--host', '127.0.0.1', '--port', '0', '--workers', '2', '--ca', pki.ca, '--cert', pki.serverCert, '--key', pki.serverKey],
    ...['--store', join(work, 'r.db'), '--builtin-files', '64KiB', '--stats-interval', '0'],
  ]);
  t.after(async () => {
    cli.child.kill('SIGTERM');
    await cli.exited;
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const listening = await cli.waitFor((l) => l.msg === 'listening', 30_000);
  const primary = cli.child.pid!;
  const { stdout } = await promisify(execFile)('pgrep', ['-P', String(primary)]);
  const [forked] = stdout.trim().split('\n').map(Number);
  const tls = await loadTlsMaterial({ ca: pki.ca, ...pki.clients.alice! });
  const endpoint = { host: '127.0.0.1', port: listening.port as number };
  const sessions = new TlsSessions();
  /** Connects while `stopped` accepts nothing: whether the other process resumed the session. */
  const resumedWith = async (stopped: number) => {
    process.kill(stopped, 'SIGSTOP');
    try {
      const { session, connected } = await openSession({ endpoint, tls, sessions });
      session.close();
      return connected.tlsResumed;
    } finally {
      process.kill(stopped, 'SIGCONT');
    }
  };
  // Issued by the primary, resumed by the forked worker, then by the primary again.
  assert.deepEqual([await resumedWith(forked!), await resumedWith(primary), await resumedWith(forked!)], [false, true, true]);
});

test('revocation applies to resumed sessions: revoked and reloaded, a client offering its ticket is refused', async (t) => {
  const { tls, endpoint, denyList, server } = await setup(t, 2);
  const sessions = new TlsSessions();
  const first = await openSession({ endpoint, tls, sessions });
  first.session.close();
  const again = await openSession({ endpoint, tls, sessions });
  assert.equal(again.connected.tlsResumed, true);
  again.session.close();

  await writeFile(denyList, `${fingerprint256(tls.cert)}\n`);
  const summary = await server.reloadRevocations();
  assert.equal(summary.fingerprints, 1);
  await assert.rejects(
    async () => {
      const refused = await openSession({ endpoint, tls, sessions });
      refused.session.close();
    },
    // Said by the server (an ERROR before HELLO is read), so the client records a setup failure.
    (err: { code?: string; message?: string }) => err.code === 'NETPROBE_TLS_UNAUTHORIZED' && /revoked/.test(err.message ?? ''),
  );
});

test('a full-handshake run: its loaded-RTT connection resumes the session its measured connection made, and the REPORT goes out on the measured connection', async (t) => {
  const { server, tls, work } = await setup(t, 1);
  const client = new NetprobeClient({
    servers: [{ host: '127.0.0.1', port: server.port }],
    tls,
    file: '64KiB',
    schedule: { kind: 'interval', intervalMs: 1_000, jitter: 0 },
    outboxPath: join(work, 'outbox.db'),
    probe: { idlePings: 1, loadedPingIntervalMs: 50 },
    fullHandshakeEvery: 1,
  });
  t.after(() => client.stop());
  const [result] = await client.measure();
  assert.equal(result?.error, null, JSON.stringify(result?.error));
  assert.equal(result?.tlsResumed, false);
  assert.equal((await client.flush()).remaining, 0);
  // The measured connection (which then carries the REPORT) and the loaded-RTT connection: one full handshake.
  assert.equal(server.context.metrics.connections, 2);
  assert.equal(server.context.metrics.resumedConnections, 1);
  assert.equal(server.context.metrics.resultsStored, 1);
});

test("a session resumes for --tls-session-lifetime after it was issued (a day by default, not node's 5 minutes), then a full handshake", async (t) => {
  assert.equal(DEFAULT_TLS_SESSION_LIFETIME_MS, 24 * 60 * 60 * 1000);
  // 3 s: OpenSSL counts whole seconds, so a session lives 3–4 s; a busy machine gets its margin.
  const { tls, endpoint } = await setup(t, 1, { tlsSessionLifetimeMs: 3_000 });
  assert.equal(serverTlsOptions(tls).sessionTimeout, 86_400, 'the default lifetime reaches OpenSSL in whole seconds');
  assert.equal(serverTlsOptions(tls, { sessionLifetimeMs: 1_500 }).sessionTimeout, 2);
  const sessions = new TlsSessions();
  const resumed = async () => {
    const { session, connected } = await openSession({ endpoint, tls, sessions });
    session.close();
    return connected.tlsResumed;
  };
  assert.deepEqual([await resumed(), await resumed()], [false, true]);
  // Past the latest ticket's lifetime (issued by the resumed connection just now).
  await new Promise((r) => setTimeout(r, 4_500));
  assert.deepEqual([await resumed(), await resumed()], [false, true]);
});

test('a resumed session of a certificate that has expired since is refused with an ERROR (a setup failure, not a closed connection)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-expired-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = await createCa();
  const serverCert = await issueCert(ca, { commonName: 'localhost', usage: 'server', ipAddresses: ['127.0.0.1'] });
  // Valid for a day from a day ago less 6 s: it expires 5–6 s from now (notAfter has whole seconds).
  const client = await issueCert(ca, { commonName: 'eve', usage: 'client', validDays: 1, now: new Date(Date.now() - 86_400_000 + 6_000) });
  const notAfterMs = Date.parse(new X509Certificate(client.certPem).validTo);
  const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  await writeFile(files.ca, ca.certPem);
  await writeFile(files.cert, serverCert.certPem);
  await writeFile(files.key, serverCert.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'eve.crt'), client.certPem);
  await writeFile(join(dir, 'eve.key'), client.keyPem, { mode: 0o600 });
  const tls = await loadTlsMaterial({ ca: files.ca, cert: join(dir, 'eve.crt'), key: join(dir, 'eve.key') });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ...files,
    store: join(dir, 'r.db'),
    builtinFiles: ['64KiB'],
    statsIntervalMs: 0,
  });
  t.after(() => server.close(2000));
  const refusals: string[] = [];
  server.context.events.on('connectionRefused', (r) => refusals.push(r.reason));
  const endpoint = { host: '127.0.0.1', port: server.port };
  const sessions = new TlsSessions();
  const first = await openSession({ endpoint, tls, sessions });
  first.session.close();
  const again = await openSession({ endpoint, tls, sessions });
  again.session.close();
  assert.equal(again.connected.tlsResumed, true);
  assert.ok(Date.now() < notAfterMs, 'both connections made while the certificate was valid');

  await new Promise((r) => setTimeout(r, notAfterMs - Date.now() + 1_100));
  await assert.rejects(
    async () => (await openSession({ endpoint, tls, sessions })).session.close(),
    (err: { code?: string; message?: string }) => err.code === 'NETPROBE_TLS_UNAUTHORIZED' && /expired/.test(err.message ?? ''),
  );
  assert.deepEqual(refusals, ['expired']);
  // Without the session, OpenSSL refuses the expired certificate in the handshake itself.
  await assert.rejects(
    async () => (await openSession({ endpoint, tls, sessions: new TlsSessions() })).session.close(),
    (err: { code?: string }) =>
      ['NETPROBE_TLS_UNAUTHORIZED', 'NETPROBE_TLS_HANDSHAKE', 'NETPROBE_CONNECTION_CLOSED'].includes(err.code ?? ''),
  );
  assert.equal(server.context.metrics.connections, 2);
});
