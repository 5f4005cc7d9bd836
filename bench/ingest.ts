/**
 * Ingest: acknowledged results per second end to end — REPORT frames over mutual TLS into a
 * `netprobe server` process (the built CLI), stored and ACKed after the commit — into SQLite and
 * into PostgreSQL. Several connections send REPORTs of 500 results, each waiting for its ACK
 * (as a client's reporter does). Reference, same run and backend: `store.insertResults` of the
 * same batches in-process, one after the other (no TLS, no parsing, no group commit).
 * Target: ≥ 20,000 results/s into SQLite.
 *
 *   node --import tsx bench/ingest.ts [--quick]       (npm run build first)
 *   PostgreSQL: NETPROBE_BENCH_POSTGRES (default NETPROBE_TEST_POSTGRES, else postgres://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { uuidv7 } from '../src/client/uuid.js';
import { encodeMessage } from '../src/protocol/messages.js';
import type { Result, StoredResult } from '../src/protocol/result.js';
import { openStore } from '../src/store/open.js';
import { makePki } from '../test/helpers/pki.js';
import { WireClient, sampleResult } from '../test/helpers/wire.js';
import { type BenchRow, QUICK, printTable, processTree, spawnReady, totalCpuSeconds, writeResult } from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const BATCH = 500;
const CONNECTIONS = 8;
const TOTAL = QUICK ? 40_000 : 200_000;
const POSTGRES = process.env.NETPROBE_BENCH_POSTGRES ?? process.env.NETPROBE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Results as a fleet reports them: start times over the last hour in about the order they arrive
 * (each client's outbox sends oldest first), UUIDv7 ids from those times, a few failures.
 */
function makeBatches(count: number): Result[][] {
  const now = Date.now();
  const stepMs = 3_600_000 / count;
  return Array.from({ length: count / BATCH }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => {
      const startedAtMs = Math.floor(now - 3_600_000 + (b * BATCH + i) * stepMs);
      const failed = i % 97 === 0;
      return sampleResult({
        id: uuidv7(startedAtMs),
        startedAt: new Date(startedAtMs).toISOString(),
        throughputMbps: failed ? null : 50 + (i % 400),
        samplesMbps: failed ? [] : [48.5, 51.25, 50.125, 49.75],
        error: failed ? { code: 'NETPROBE_TIMEOUT', message: 'timed out' } : null,
      });
    }),
  );
}

const asStored = (batch: readonly Result[], client: string): StoredResult[] =>
  batch.map((r) => ({ ...r, client, receivedAt: new Date().toISOString(), serverConcurrentTransfers: 3, serverOutboundMbps: 812.5 }));

interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  /** A fresh store location; `cleanup` removes it. */
  fresh(): Promise<{ location: string; cleanup(): Promise<void> }>;
}

async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    return null;
  } catch (err) {
    return (err as Error).message || String((err as { code?: string }).code);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function postgresBackend(): Backend {
  return {
    name: 'PostgreSQL',
    async fresh() {
      const schema = `np_bench_${randomBytes(4).toString('hex')}`;
      const url = new URL(POSTGRES);
      url.searchParams.set('schema', schema);
      return {
        location: url.toString(),
        async cleanup() {
          const client = new pg.Client({ connectionString: POSTGRES });
          await client.connect();
          await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await client.end();
        },
      };
    },
  };
}

function sqliteBackend(dir: string): Backend {
  let n = 0;
  return {
    name: 'SQLite',
    async fresh() {
      const path = join(dir, `ingest-${n++}.db`);
      return {
        location: path,
        cleanup: () =>
          rm(path, { force: true })
            .then(() => rm(`${path}-wal`, { force: true }))
            .then(() => rm(`${path}-shm`, { force: true })),
      };
    },
  };
}

/** In-process: insertResults of each batch in turn. Results per second. */
async function referenceRate(backend: Backend, batches: readonly Result[][]): Promise<number> {
  const { location, cleanup } = await backend.fresh();
  const store = await openStore(location);
  try {
    const rows = batches.map((b, i) => asStored(b, `client-${i % CONNECTIONS}`));
    const t0 = performance.now();
    for (const batch of rows) await store.insertResults([batch]);
    const seconds = (performance.now() - t0) / 1000;
    if ((await store.countResults()) !== TOTAL) throw new Error('reference run lost results');
    return TOTAL / seconds;
  } finally {
    await store.close();
    await cleanup();
  }
}

interface EndToEnd {
  resultsPerSecond: number;
  serverCpuSeconds: number;
  seconds: number;
}

/** The server process; CONNECTIONS clients each sending REPORT, waiting for ACK, until the batches run out. */
async function endToEnd(
  backend: Backend,
  batches: readonly Result[][],
  pki: Awaited<ReturnType<typeof makePki>>,
  workers: '1' | 'auto' = '1',
): Promise<EndToEnd> {
  const { location, cleanup } = await backend.fresh();
  const server = await spawnReady(
    process.execPath,
    [
      CLI,
      'server',
      '--workers',
      workers,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--ca',
      pki.ca,
      '--cert',
      pki.serverCert,
      '--key',
      pki.serverKey,
      '--store',
      location,
      '--builtin-files',
      '1KiB',
      '--stats-interval',
      '0',
      '--log-level',
      'info',
      // The bench measures the store's capacity, not the per-client fair share (3,000 results/min by default).
      '--client-results-per-minute',
      '100000000',
      '--client-report-size-per-minute',
      '1TiB',
    ],
    (l) => l.includes('"listening"'),
  );
  try {
    const port = (JSON.parse(server.line) as { port: number }).port;
    const frames = batches.map((results) => encodeMessage({ type: 'REPORT', results }));
    const clients = await Promise.all(
      Object.values(pki.clients).map(async (paths) => {
        const c = await WireClient.connect(port, { ca: pki.ca, ...paths });
        await c.hello();
        return c;
      }),
    );
    // With --workers: the primary and its workers together.
    const pids = await processTree(server.child.pid!);
    const serverCpu = () => totalCpuSeconds(pids);
    const cpuBefore = serverCpu();
    let next = 0;
    let acked = 0;
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        for (let i = next++; i < frames.length; i = next++) {
          c.sendRaw(frames[i]!);
          const ack = await c.next();
          if (ack?.type !== 'ACK') throw new Error(`expected ACK, got ${JSON.stringify(ack)}`);
          acked += ack.ids.length;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const serverCpuSeconds = serverCpu() - cpuBefore;
    for (const c of clients) c.close();
    if (acked !== TOTAL) throw new Error(`${acked} of ${TOTAL} results acknowledged`);
    const store = await openStore(location, { readonly: true });
    const stored = await store.countResults();
    await store.close();
    if (stored !== TOTAL) throw new Error(`${stored} of ${TOTAL} results stored`);
    return { resultsPerSecond: TOTAL / seconds, serverCpuSeconds, seconds };
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await cleanup();
  }
}

export async function benchIngest(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-ingest-'));
  const pki = await makePki(Array.from({ length: CONNECTIONS }, (_, i) => `client-${i}`));
  const rows: BenchRow[] = [];
  const details: Record<string, unknown> = { batch: BATCH, connections: CONNECTIONS, results: TOTAL };
  try {
    const backends = [sqliteBackend(dir)];
    const unreachable = await postgresReachable();
    if (unreachable === null) backends.push(postgresBackend());
    else details.postgres = `skipped: ${unreachable}`;
    for (const backend of backends) {
      const batches = makeBatches(TOTAL);
      const reference = await referenceRate(backend, makeBatches(TOTAL));
      const e2e = await endToEnd(backend, batches, pki);
      details[backend.name] = { ...e2e, referenceResultsPerSecond: reference };
      rows.push({
        bench: 'ingest',
        metric: `acked results/s into ${backend.name} (TLS, ${CONNECTIONS} connections, REPORT of ${BATCH})`,
        netprobe: e2e.resultsPerSecond,
        reference,
        referenceName: `in-process insertResults, ${BATCH} a transaction`,
        ratio: e2e.resultsPerSecond / reference,
        unit: 'results/s',
        ...(backend.name === 'SQLite' && { target: '≥ 20000' }),
      });
      rows.push({
        bench: 'ingest',
        metric: `server CPU per 100,000 results, ${backend.name}`,
        netprobe: (e2e.serverCpuSeconds / TOTAL) * 100_000,
        unit: 'CPU s (lower is better)',
      });
      if (backend.name === 'SQLite') {
        // `netprobe server`'s default: workers take the TLS, the primary commits what they hand it.
        const multi = await endToEnd(backend, makeBatches(TOTAL), pki, 'auto');
        details.sqliteWorkersAuto = multi;
        rows.push({
          bench: 'ingest',
          metric: `acked results/s into SQLite with server --workers auto (primary commits for ${availableParallelism()} workers)`,
          netprobe: multi.resultsPerSecond,
          reference: e2e.resultsPerSecond,
          referenceName: 'one process',
          ratio: multi.resultsPerSecond / e2e.resultsPerSecond,
          unit: 'results/s',
          target: '≥ 20000',
        });
      }
    }
  } finally {
    await pki.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  await writeResult('ingest', rows, details);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) printTable(await benchIngest());
