import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { NetprobeClient } from '../../src/client/client.js';
import { TlsSessions } from '../../src/client/connect.js';
import { openSession } from '../../src/client/session.js';
import { startServer } from '../../src/server/server.js';
import { fingerprint256 } from '../../src/tls/crl.js';
import { loadTlsMaterial } from '../../src/tls/options.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';

async function setup(t: test.TestContext, workers: number, extra: { denyList?: string } = {}) {
  const pki = await makePki(['alice']);
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
    (err: { code?: string }) => ['NETPROBE_CLOSED', 'NETPROBE_TLS_UNAUTHORIZED', 'NETPROBE_TLS_HANDSHAKE'].includes(err.code ?? ''),
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
