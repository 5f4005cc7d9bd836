/**
 * `netprobe store migrate` and `netprobe store prune` through the built CLI (`npm test` builds
 * first), and the copy's resumption in-process. The analysis of a migrated store must be byte for
 * byte the analysis of its SQLite original.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { buildSyntheticStore } from '../../bench/synthetic-results.js';
import { analyse } from '../../src/analysis/analyse.js';
import { toStableJson } from '../../src/analysis/json.js';
import { copyStore } from '../../src/store/migrate.js';
import { openStore } from '../../src/store/open.js';
import { HOUR, schedule, stored } from '../analysis/helpers/dataset.js';
import { CLI } from '../helpers/process.js';
import { BACKENDS, collect, openFor } from './helpers/backends.js';
import { needPostgres, schemaLocation } from './helpers/postgres.js';

const DAY = 24 * HOUR;
const execFileAsync = promisify(execFile);

async function netprobe(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [CLI, ...args], { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-migrate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A synthetic fleet (evening congestion, failures, gaps, server load) plus transfers, in SQLite. */
async function syntheticSqlite(t: TestContext, results: number, clients: number): Promise<string> {
  const path = join(await tempDir(t), 'source.db');
  buildSyntheticStore(path, { results, clients, intervalMs: 300_000, startMs: Date.UTC(2025, 2, 24) });
  const store = await openStore(path);
  await store.insertTransfers(
    Array.from({ length: 1_200 }, (_, i) => ({
      client: `client-${String(i % clients).padStart(4, '0')}`,
      file: '10MiB',
      mode: 'file' as const,
      bytes: 10_485_760,
      startedAtMs: Date.UTC(2025, 2, 24) + Math.floor(i / 3) * 60_000,
      durationMs: 100 + i,
      concurrentAtStart: i % 7,
      outcome: 'ok',
    })),
  );
  await store.close();
  return path;
}

test('store migrate copies a SQLite store into PostgreSQL; analyse --json answers byte for byte alike; a second run adds nothing', async (t) => {
  if (!(await needPostgres(t))) return;
  const path = await syntheticSqlite(t, 12_000, 10);
  const { location } = schemaLocation(t, 'np_migrate');

  const first = await netprobe(['store', 'migrate', '--from', `sqlite:${path}`, '--to', location, '--batch', '2500']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^12000 results read from .*: 12000 stored, 0 already present; 1200 transfers copied into postgres:\/\//m);

  const sqlite = await openFor(t, path, { readonly: true });
  const postgres = await openFor(t, location, { readonly: true });
  assert.equal(await postgres.countResults(), 12_000);
  assert.deepEqual(await collect(postgres.iterateTransfers()), await collect(sqlite.iterateTransfers()));
  for (const options of [
    {},
    { timeZone: 'Europe/Berlin' },
    {
      timeZone: 'America/New_York',
      sinceMs: Date.UTC(2025, 2, 25, 13),
      clients: ['client-0003', 'client-0010', 'client-0099'],
      bucketMs: HOUR,
    },
  ]) {
    const expected = toStableJson(await analyse(sqlite, options));
    assert.equal(toStableJson(await analyse(postgres, options)), expected, JSON.stringify(options));
  }
  const summary = JSON.parse(toStableJson(await analyse(sqlite, {}))) as { episodes: unknown[]; networkEpisodes: unknown[] };
  assert.ok(summary.episodes.length > 0 && summary.networkEpisodes.length > 0, 'the dataset exercises episodes and server load');

  // The CLI on both stores: identical JSON.
  const [fromSqlite, fromPostgres] = await Promise.all([
    netprobe(['analyse', '--json', '--tz', 'Europe/Berlin', '--store', path]),
    netprobe(['analyse', '--json', '--tz', 'Europe/Berlin', '--store', location]),
  ]);
  assert.equal(fromPostgres.code, 0, fromPostgres.stderr);
  assert.equal(fromPostgres.stdout, fromSqlite.stdout);

  const again = await netprobe(['store', 'migrate', '--from', path, '--to', location]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^12000 results read from .*: 0 stored, 12000 already present; 0 transfers copied/m);
  assert.equal(await postgres.countResults(), 12_000);
  assert.equal((await collect(postgres.iterateTransfers())).length, 1_200);
});

test('an interrupted copy resumes after the last batch it stored; nothing is copied twice', async (t) => {
  if (!(await needPostgres(t))) return;
  const path = await syntheticSqlite(t, 2_500, 5);
  const source = await openFor(t, path, { readonly: true });
  const destination = await openFor(t, schemaLocation(t, 'np_resume').location);
  const stop = new AbortController();
  let batches = 0;
  const partial = await copyStore(source, destination, {
    batchSize: 600,
    signal: stop.signal,
    onProgress: () => ++batches === 2 && stop.abort(),
  });
  assert.deepEqual([partial.complete, partial.resultsInserted, await destination.countResults()], [false, 1_200, 1_200]);

  const rest = await copyStore(source, destination, { batchSize: 600 });
  assert.deepEqual(
    {
      resumed: rest.resumed,
      complete: rest.complete,
      read: rest.resultsRead,
      inserted: rest.resultsInserted,
      duplicates: rest.resultsDuplicate,
      transfers: rest.transfersCopied,
    },
    { resumed: true, complete: true, read: 1_300, inserted: 1_300, duplicates: 0, transfers: 1_200 },
  );
  assert.deepEqual(await collect(destination.iterateResults()), await collect(source.iterateResults()));
  assert.deepEqual(await collect(destination.iterateTransfers()), await collect(source.iterateTransfers()));

  // Stopped during the transfers: the next run goes over the results again (idempotently) and copies the remaining transfers once.
  const other = await openFor(t, schemaLocation(t, 'np_resume').location);
  const stopTransfers = new AbortController();
  await copyStore(source, other, {
    batchSize: 500,
    signal: stopTransfers.signal,
    onProgress: (p) => p.transfersCopied >= 500 && stopTransfers.abort(),
  });
  const finish = await copyStore(source, other, { batchSize: 500 });
  assert.deepEqual([finish.resultsInserted, finish.resultsDuplicate, finish.transfersCopied], [0, 2_500, 700]);
  assert.deepEqual(await collect(other.iterateTransfers()), await collect(source.iterateTransfers()));
});

for (const backend of BACKENDS) {
  test(`store prune --older-than on ${backend.name}`, async (t) => {
    const location = await backend.location(t);
    if (location === undefined) return;
    const now = Date.now();
    const store = await openFor(t, location);
    const rows = schedule('a', now - 120 * DAY + DAY / 2, 10 * DAY, 12).map(stored); // 119.5 … 9.5 days ago
    await store.insertResults([rows]);
    await store.insertTransfers(
      rows.map((r) => ({
        client: 'a',
        file: 'f',
        mode: 'file',
        bytes: 1,
        startedAtMs: Date.parse(r.startedAt),
        durationMs: 1,
        concurrentAtStart: 0,
        outcome: 'ok',
      })),
    );
    await store.close();
    const old = rows.filter((r) => Date.parse(r.startedAt) < now - 90 * DAY).length;
    const run = await netprobe(['store', 'prune', '--older-than', '90d', '--store', location, '--yes']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^pruned ${old} results and ${old} transfers started before `));
    const after = await openFor(t, location, { readonly: true });
    assert.equal(await after.countResults(), rows.length - old);
    const refused = await netprobe(['store', 'prune', '--older-than', 'soon', '--store', location, '--yes']);
    assert.equal(refused.code, 2);
  });
}
