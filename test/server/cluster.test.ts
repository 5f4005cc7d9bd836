/**
 * A multi-process server (`workers: 2`: the primary and one forked worker serve TLS, from one
 * listening socket), the primary alone stores. Results are
 * stored exactly once whatever worker took them, ACK only after the primary's commit, the load
 * annotation and counters cover every worker, revocations reach every worker, a killed worker is
 * replaced without losing an acknowledged result, and a dead primary takes its workers with it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveWorkers, serverConfigSchema } from '../../src/server/config.js';
import { type ServerWithDashboard, startServerWithDashboard } from '../../src/cli/serve.js';
import { startServer } from '../../src/server/server.js';
import { workerExecArgv } from '../../src/server/cluster.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { fingerprint256 } from '../../src/tls/crl.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runCli } from '../helpers/process.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { readFile } from 'node:fs/promises';

const TOKEN = 'cluster-test-token-0123456789';
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await wait(50);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('server with worker processes', () => {
  let pki: TestPki;
  let work: string;
  let server: ServerWithDashboard;
  let denyList: string;

  before(async () => {
    pki = await makePki(['alice', 'bob', 'carol', ...Array.from({ length: 40 }, (_, i) => `c${i}`)]);
    work = await mkdtemp(join(tmpdir(), 'netprobe-cluster-'));
    denyList = join(work, 'deny.txt');
    await writeFile(denyList, '# nobody yet\n');
    server = await startServerWithDashboard({
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      workers: 2,
      store: join(work, 'results.db'),
      builtinFiles: ['1MiB'],
      statsIntervalMs: 0,
      denyList,
      logLevel: 'silent',
      http: '127.0.0.1:0',
      httpToken: TOKEN,
    });
  });
  after(async () => {
    await server.close(2000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });

  const connect = (name: string) => WireClient.connect(server.port, { ca: pki.ca, ...pki.clients[name]! });

  test('two workers; 40 concurrent clients: identical files, every result stored exactly once and annotated with the server-wide load', async () => {
    assert.equal(server.workers, 2);
    // The primary is one of the two.
    assert.equal(server.workerPids.length, 1);
    assert.ok(server.workerPids.every((pid) => pid !== process.pid && alive(pid)));
    const hashes = new Set<string>();
    const ids = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const name = `c${i}`;
        const c = await connect(name);
        try {
          await c.hello();
          const { reply, bytes, sha256 } = await c.download('1MiB');
          assert.ok(reply?.type === 'FILE_META');
          assert.equal(sha256, reply.sha256);
          hashes.add(sha256);
          const result = sampleResult({ client: name, bytes });
          c.send({ type: 'REPORT', results: [result] });
          const ack = await c.next();
          assert.ok(ack?.type === 'ACK', JSON.stringify(ack));
          assert.deepEqual(ack.ids, [result.id]);
          c.send({ type: 'REPORT', results: [result] });
          const again = await c.next();
          assert.ok(again?.type === 'ACK' && again.duplicates === 1, JSON.stringify(again));
          return result.id;
        } finally {
          c.close();
        }
      }),
    );
    // Every worker generated the built-in file from the same seed.
    assert.equal(hashes.size, 1);
    const store = new SqliteStore(join(work, 'results.db'), { readonly: true });
    try {
      const rows = store.db.prepare('SELECT id, server_concurrent_transfers AS c FROM results').all() as { id: string; c: number | null }[];
      assert.equal(rows.length, 40);
      assert.deepEqual(new Set(rows.map((r) => r.id)), new Set(ids));
      // The primary matched each result to its transfer, whichever worker served it.
      assert.ok(
        rows.every((r) => r.c !== null),
        'every result annotated with the server load',
      );
    } finally {
      store.close();
    }
    const ctx = server.context;
    assert.equal(ctx.metrics.resultsStored, 40);
    assert.equal(ctx.metrics.resultsDuplicate, 40);
    await until(
      'worker counters to reach the primary',
      () => ctx.metrics.connections >= 40 && ctx.load.totalTransfers === 40 && ctx.load.active === 0,
    );
    assert.ok(ctx.load.totalBytes >= 40 * 2 ** 20, `bytes ${ctx.load.totalBytes}`);
  });

  test("the primary's /metrics adds up every worker's transfers, connections and stored results", async () => {
    const metric = async (name: string) => {
      const text = await (await fetch(`${server.web!.url}metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line === undefined ? undefined : Number(line.split(' ').at(-1));
    };
    assert.equal(await metric('netprobe_results_stored_total'), 40);
    assert.equal(await metric('netprobe_results_duplicate_total'), 40);
    assert.equal(await metric('netprobe_transfers_total{mode="file",outcome="ok"}'), 40);
    assert.ok((await metric('netprobe_bytes_sent_total'))! >= 40 * 2 ** 20);
    assert.ok((await metric('netprobe_connections_accepted_total'))! >= 40);
    assert.equal(await metric('netprobe_concurrent_transfers'), 0);
  });

  test('a deny-list reload reaches every worker and closes the revoked client everywhere', async () => {
    const open = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = await connect('bob');
        await c.hello();
        return c;
      }),
    );
    await writeFile(denyList, `${fingerprint256(await readFile(pki.clients.bob!.cert))}\n`);
    const summary = await server.reloadRevocations();
    assert.equal(summary.fingerprints, 1);
    assert.equal(summary.closed, 4);
    await Promise.all(open.map((c) => c.closed()));
    const refused = await connect('bob');
    await refused.closed();
    assert.ok(refused.ended);
    await until('the refusal counted by the primary', () => server.context.metrics.openConnections === 0);
  });

  test('the primary serves TLS itself: with its forked workers stopped, clients still download and report', async () => {
    const forked = [...server.workerPids];
    for (const pid of forked) process.kill(pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 4; i++) {
        const c = await connect('carol');
        try {
          assert.equal((await c.hello())?.type, 'WELCOME');
          const { reply, bytes, sha256 } = await c.download('1MiB');
          assert.ok(reply?.type === 'FILE_META' && reply.sha256 === sha256);
          const result = sampleResult({ client: 'carol', bytes });
          c.send({ type: 'REPORT', results: [result] });
          const ack = await c.next();
          assert.ok(ack?.type === 'ACK' && ack.ids[0] === result.id, JSON.stringify(ack));
        } finally {
          c.close();
        }
      }
    } finally {
      for (const pid of forked) process.kill(pid, 'SIGCONT');
    }
  });

  test('a killed worker is replaced; acknowledged results stay stored and the server keeps serving', async () => {
    const [victim] = server.workerPids;
    const c = await connect('alice');
    await c.hello();
    const result = sampleResult({ client: 'alice' });
    c.send({ type: 'REPORT', results: [result] });
    assert.equal((await c.next())?.type, 'ACK');
    c.close();
    process.kill(victim!, 'SIGKILL');
    await until('a replacement worker', () => server.workerPids.length === 1 && !server.workerPids.includes(victim!));
    // Both workers serve again: several connections in a row all succeed.
    for (let i = 0; i < 6; i++) {
      const d = await connect('carol');
      const welcome = await d.hello();
      assert.equal(welcome?.type, 'WELCOME');
      d.close();
    }
    const store = new SqliteStore(join(work, 'results.db'), { readonly: true });
    try {
      assert.equal((store.db.prepare('SELECT count(*) AS n FROM results WHERE id = ?').get(result.id) as { n: number }).n, 1);
    } finally {
      store.close();
    }
  });
});

test('netprobe server --workers 2: SIGKILL of the primary takes its workers down; SIGTERM stops them all cleanly', async (t) => {
  const pki = await makePki(['alice']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-cluster-cli-'));
  t.after(async () => {
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const start = async () => {
    const cli = runCli([
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--workers',
      '2',
      '--ca',
      pki.ca,
      '--cert',
      pki.serverCert,
      '--key',
      pki.serverKey,
      '--store',
      join(work, 'r.db'),
      '--builtin-files',
      '64KiB',
      '--stats-interval',
      '0',
    ]);
    const listening = await cli.waitFor((l) => l.msg === 'listening', 30_000);
    assert.equal(listening.workers, 2);
    const { stdout } = await promisify(execFile)('pgrep', ['-P', String(cli.child.pid)]);
    const workers = stdout.trim().split('\n').filter(Boolean).map(Number);
    // The primary serves too: one forked worker.
    assert.equal(workers.length, 1, `worker pids: ${workers.join(',')}`);
    return { cli, port: listening.port as number, workers };
  };

  const first = await start();
  const c = await WireClient.connect(first.port, { ca: pki.ca, ...pki.clients.alice! });
  assert.equal((await c.hello())?.type, 'WELCOME');
  c.close();
  first.cli.child.kill('SIGKILL');
  await until('workers to exit after their primary died', () => first.workers.every((pid) => !alive(pid)));

  const second = await start();
  second.cli.child.kill('SIGTERM');
  assert.deepEqual(await second.cli.exited, { code: 0, signal: null });
  await until('workers to exit after SIGTERM', () => second.workers.every((pid) => !alive(pid)));
  assert.ok(second.cli.lines.some((l) => l.msg === 'stopped'));
});

test('netprobe server --workers 2 on a port in use: one clear error and exit 1 (the primary binds before any worker is forked)', async (t) => {
  const pki = await makePki([]);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-cluster-busy-'));
  const taken = net.createServer().listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.after(async () => {
    taken.close();
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const { port } = taken.address() as AddressInfo;
  const cli = runCli([
    'server',
    ...['--host', '127.0.0.1', '--port', String(port), '--workers', '2', '--ca', pki.ca, '--cert', pki.serverCert, '--key', pki.serverKey],
    ...['--store', join(work, 'r.db'), '--builtin-files', '64KiB', '--stats-interval', '0'],
  ]);
  assert.deepEqual(await cli.exited, { code: 1, signal: null });
  const errors = cli.stderr.filter((l) => l.includes('cannot listen'));
  assert.equal(errors.length, 1, cli.stderr.join('\n'));
  assert.match(errors[0]!, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*NETPROBE_CONFIG`));
  assert.ok(!cli.lines.some((l) => l.msg === 'listening'));
});

test("workers: a number from 1 to 64 or 'auto' (one per core); an injected store, catalogue or shaper needs one process", async () => {
  assert.equal(resolveWorkers('auto'), availableParallelism());
  assert.equal(resolveWorkers(3), 3);
  for (const bad of ['many', 0, 65, 1.5]) {
    const parsed = serverConfigSchema.safeParse({ workers: bad });
    assert.equal(parsed.success, false, String(bad));
    assert.match(JSON.stringify(parsed.error?.issues), /workers is a whole number from 1 to 64, or 'auto'/);
  }
  const pki = await makePki([]);
  try {
    const store = new SqliteStore(':memory:');
    await assert.rejects(
      startServer({ host: '127.0.0.1', port: 0, ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, workers: 2 }, { store }),
      { code: 'NETPROBE_CONFIG', message: /workers: 2 cannot be combined with an in-process store/ },
    );
    store.close();
  } finally {
    await pki.cleanup();
  }
});

describe('worker flags', () => {
  test('a primary running TypeScript under a loader gives its workers that loader, not tsx beside it', () => {
    const esbuild = ['--import', './test/harness/ts-register.mjs'];
    assert.deepEqual(workerExecArgv(esbuild, true, false), [...esbuild, '--max-semi-space-size=1']);
    assert.deepEqual(workerExecArgv(['--import=tsx'], true, false), ['--import=tsx', '--max-semi-space-size=1']);
    // No loader among the flags (registered in code): tsx is the workers' loader.
    assert.deepEqual(workerExecArgv([], true, false), ['--import', 'tsx', '--max-semi-space-size=1']);
    // Built JavaScript needs none.
    assert.deepEqual(workerExecArgv([], false, false), ['--max-semi-space-size=1']);
  });

  test('test and inspector flags stay with the primary; profiler flags only when asked', () => {
    const parent = ['--test-reporter=spec', '--inspect=0', '--cpu-prof', '--max-semi-space-size=4'];
    assert.deepEqual(workerExecArgv(parent, false, false), ['--max-semi-space-size=4']);
    assert.deepEqual(workerExecArgv(parent, false, true), ['--cpu-prof', '--max-semi-space-size=4']);
  });
});
