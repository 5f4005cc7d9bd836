/**
 * The Store contract, one suite run against both implementations (SQLite file, PostgreSQL schema),
 * then the two compared: every analysis read method answers identically from the same rows.
 * PostgreSQL comes from NETPROBE_TEST_POSTGRES (tests skip without it, and fail under CI=true).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { toStableJson } from '../../src/analysis/json.js';
import { offsetSpans } from '../../src/analysis/timezone.js';
import type { StoredResult } from '../../src/protocol/result.js';
import { seededRandom } from '../../src/sim/random.js';
import type { Store, TransferRecord } from '../../src/store/types.js';
import { HOUR, MIN, T0, type Measure, schedule, stored } from '../analysis/helpers/dataset.js';
import { BACKENDS, collect, freshStore, openFor, plainMeasurements } from './helpers/backends.js';

const DAY = 24 * HOUR;
const byStartThenId = (a: StoredResult, b: StoredResult) =>
  Date.parse(a.startedAt) - Date.parse(b.startedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const normalised = (r: StoredResult): StoredResult => ({
  ...r,
  startedAt: new Date(r.startedAt).toISOString(),
  receivedAt: new Date(r.receivedAt).toISOString(),
});

function transfer(client: string, startedAtMs: number, extra: Partial<TransferRecord> = {}): TransferRecord {
  return {
    client,
    file: '1MiB',
    mode: 'file',
    bytes: 1_048_576,
    startedAtMs,
    durationMs: 12.5,
    concurrentAtStart: 2,
    outcome: 'ok',
    ...extra,
  };
}

for (const backend of BACKENDS) {
  describe(`Store contract: ${backend.name}`, () => {
    test('insertResults: one outcome per batch; duplicates within a batch, across batches and across calls are counted, not stored', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      const [a, b, c] = [T0, T0 + MIN, T0 + 2 * MIN].map((at, i) => stored({ client: `c${i}`, at, mbps: 10.1 * (i + 1) }));
      assert.deepEqual(await s.store.insertResults([[a!, b!, a!], [b!, c!], []]), [
        { inserted: 2, duplicates: 1 },
        { inserted: 1, duplicates: 1 },
        { inserted: 0, duplicates: 0 },
      ]);
      assert.deepEqual(await s.store.insertResults([[c!, a!]]), [{ inserted: 0, duplicates: 2 }]);
      assert.deepEqual(await s.store.insertResults([]), []);
      assert.equal(await s.store.countResults(), 3);
      for (const r of [a!, b!, c!]) assert.equal(await s.store.hasResult(r.id), true);
      assert.equal(await s.store.hasResult(randomUUID()), false);
      assert.equal(await s.store.hasResult('not-a-uuid'), false);
      assert.deepEqual(await collect(s.store.iterateResults()), [a!, b!, c!]);
    });

    test('several writers storing the same ids at once store each exactly once', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      const other = await openFor(t, s.location);
      const rows = schedule('w', T0, MIN, 400).map(stored);
      const slices = Array.from({ length: 8 }, (_, i) => rows.slice(i * 40, i * 40 + 120));
      // Each writer gets every slice, in opposite orders, several slices per call (group commit).
      const outcomes = await Promise.all([
        ...slices.map((slice, i) => s.store.insertResults([slice, slices[(i + 1) % slices.length]!])),
        ...[...slices].reverse().map((slice) => other.insertResults([slice])),
      ]);
      const inserted = outcomes.flat().reduce((n, o) => n + o.inserted, 0);
      assert.equal(inserted, 400, 'every id counted as inserted exactly once');
      assert.equal(await s.store.countResults(), 400);
    });

    test('iterateResults pages through ties on the start time in (start, id) order; filters agree with count', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      // 5,003 results (more than one page), seven per start time, three clients.
      const rows = Array.from({ length: 5_003 }, (_, i) => stored({ client: `c${i % 3}`, at: T0 + Math.floor(i / 7) * MIN, mbps: i }));
      assert.deepEqual(await s.store.insertResults([rows]), [{ inserted: 5_003, duplicates: 0 }]);
      const all = await collect(s.store.iterateResults());
      assert.deepEqual(all, [...rows].sort(byStartThenId));
      const filters = [
        { sinceMs: T0 + 100 * MIN },
        { untilMs: T0 + 100 * MIN },
        { sinceMs: T0 + 10 * MIN, untilMs: T0 + 20 * MIN, clients: ['c1', 'c2'] },
        { clients: ['c0'] },
        { clients: ['nobody'] },
      ];
      for (const f of filters) {
        const expected = all.filter((r) => {
          const at = Date.parse(r.startedAt);
          return (
            (f.sinceMs === undefined || at >= f.sinceMs) &&
            (f.untilMs === undefined || at < f.untilMs) &&
            (f.clients === undefined || f.clients.includes(r.client))
          );
        });
        assert.equal(await s.store.countResults(f), expected.length, JSON.stringify(f));
        assert.deepEqual(await collect(s.store.iterateResults(f)), expected, JSON.stringify(f));
      }
    });

    test('results round-trip every field; start times in another offset come back in UTC', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      const full = {
        ...stored({
          client: 'ü名',
          at: '2025-03-30T03:30:00.123+02:00',
          idleRttMs: 1.25,
          loadedRttMs: 9.5,
          clientLimited: true,
          serverConcurrentTransfers: 7,
          serverOutboundMbps: 812.125,
        }),
        samplesMbps: [1.5, 2.25, 0],
        dnsMs: 0.75,
        cpuMs: null,
        tlsVersion: null,
        cipher: null,
        busyRetries: 3,
      };
      const failed = {
        ...stored({ client: 'x', at: T0, failed: true }),
        sha256Ok: null,
        error: { code: 'NETPROBE_TLS_HANDSHAKE', message: 'it\'s "quoted"\n' },
      };
      await s.store.insertResults([[full, failed]]);
      assert.deepEqual(await collect(s.store.iterateResults()), [normalised(failed), normalised(full)]);
    });

    test('transfers are stored and read back by start time, then insertion order, with filters', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      const first = [
        transfer('a', T0 + MIN),
        transfer('b', T0, { mode: 'duration', outcome: 'NETPROBE_TIMEOUT', bytes: 0 }),
        transfer('a', T0 + MIN, { file: 'second' }),
      ];
      await s.store.insertTransfers(first);
      await s.store.insertTransfers([]);
      await s.store.insertTransfers([transfer('c', T0 + 2 * MIN, { durationMs: 0.125, concurrentAtStart: 0 })]);
      assert.deepEqual(await collect(s.store.iterateTransfers()), [
        first[1],
        first[0],
        first[2],
        transfer('c', T0 + 2 * MIN, { durationMs: 0.125, concurrentAtStart: 0 }),
      ]);
      assert.deepEqual(
        (await collect(s.store.iterateTransfers({ sinceMs: T0 + MIN, untilMs: T0 + 2 * MIN, clients: ['a'] }))).map((x) => x.file),
        ['1MiB', 'second'],
      );
    });

    test('schema: reopening keeps the data; a newer schema version is refused; read-only needs an existing store', async (t) => {
      const location = await backend.location(t);
      if (location === undefined) return;
      const first = await openFor(t, location);
      await first.insertResults([[stored({ client: 'a', at: T0 })]]);
      await first.close();
      const again = await openFor(t, location);
      assert.equal(await again.countResults(), 1);
      await again.close();
      const reader = await openFor(t, location, { readonly: true });
      assert.equal(await reader.countResults(), 1);
      await reader.close();

      await backend.setSchemaVersion(location, 99);
      await assert.rejects(
        openFor(t, location),
        (err: Error & { code?: string }) => err.code === 'NETPROBE_STORAGE' && /newer/.test(err.message),
      );
      await assert.rejects(
        openFor(t, location, { readonly: true }),
        (err: Error & { code?: string }) => err.code === 'NETPROBE_STORAGE' && /newer/.test(err.message),
      );
      const empty = await backend.location(t);
      await assert.rejects(openFor(t, empty!, { readonly: true }), (err: Error & { code?: string }) => err.code === 'NETPROBE_STORAGE');
    });

    test('prune deletes the results and transfers started before the cutoff, across month boundaries', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      const jan = Date.UTC(2025, 0, 20);
      const rows = schedule('a', jan, 5 * DAY, 12).map(stored); // 20 Jan … 14 Mar
      await s.store.insertResults([rows]);
      await s.store.insertTransfers(rows.map((r) => transfer('a', Date.parse(r.startedAt))));
      const cutoff = Date.UTC(2025, 1, 15); // mid-February: January goes whole, February in part
      const kept = rows.filter((r) => Date.parse(r.startedAt) >= cutoff);
      assert.deepEqual(await s.store.prune(cutoff), { results: rows.length - kept.length, transfers: rows.length - kept.length });
      assert.deepEqual(await collect(s.store.iterateResults()), kept);
      assert.equal((await collect(s.store.iterateTransfers())).length, kept.length);
      assert.equal(await s.store.hasResult(rows[0]!.id), false);
      assert.deepEqual(await s.store.prune(cutoff), { results: 0, transfers: 0 });
      // The store keeps working for old and new months after a prune.
      assert.deepEqual(await s.store.insertResults([[rows[0]!, stored({ client: 'a', at: Date.UTC(2025, 5, 1) })]]), [
        { inserted: 2, duplicates: 0 },
      ]);
      assert.equal(await s.store.countResults(), kept.length + 2);
    });

    test('importBatch writes rows and its progress marker together; duplicates counted', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      assert.equal(await s.store.importProgress('k'), null);
      const rows = schedule('a', T0, MIN, 3).map(stored);
      assert.deepEqual(
        await s.store.importBatch({ results: rows, transfers: [transfer('a', T0)], progress: { key: 'k', value: '{"n":3}' } }),
        { inserted: 3, duplicates: 0 },
      );
      assert.deepEqual(await s.store.importBatch({ results: [rows[0]!, rows[0]!], transfers: [], progress: { key: 'k', value: 'done' } }), {
        inserted: 0,
        duplicates: 2,
      });
      assert.equal(await s.store.importProgress('k'), 'done');
      assert.equal(await s.store.countResults(), 3);
      assert.equal((await collect(s.store.iterateTransfers())).length, 1);
    });

    test('analysis queries: per-client columns, local-time profile, server load, last seen, span', async (t) => {
      const s = await freshStore(t, backend);
      if (!s) return;
      await s.store.insertResults([
        [
          { client: 'b', at: T0 + 2 * MIN, mbps: 30 },
          {
            client: 'a',
            at: T0 + MIN,
            mbps: 20,
            idleRttMs: 2,
            loadedRttMs: 12,
            rpm: 4800,
            rpmProbes: 20,
            tcpRttMs: 11.5,
            tcpRetransmits: 3,
            clientLimited: true,
            serverConcurrentTransfers: 4,
            serverOutboundMbps: 300,
          },
          { client: 'a', at: T0 + MIN, failed: true, idleRttMs: 4 },
          { client: 'a', at: T0 + MIN, mbps: 10, responseMs: null, rpm: 1200, rpmProbes: 5, tcpRttMs: 2.5, tcpRetransmits: 0 },
          { client: 'a', at: T0, mbps: 50, bytes: 7, serverConcurrentTransfers: 2, serverOutboundMbps: 100 },
          { client: 'a', at: T0 + 24 * HOUR + 10 * HOUR, mbps: 40, downloadMs: 400 },
        ].map((m: Measure) => stored(m)),
      ]);
      const blocks = (await collect(s.store.clientMeasurements())).map(plainMeasurements);
      assert.deepEqual(
        blocks.map((b) => b.client),
        ['a', 'b'],
      );
      assert.deepEqual(blocks[0], {
        client: 'a',
        results: 5,
        bytes: 7 + 3_000_000,
        clientLimited: 1,
        idleRttMs: { count: 2, sum: 6 },
        loadedRttMs: { count: 1, sum: 12 },
        bufferbloatMs: { count: 1, sum: 10 },
        // Count and sum of 1 ÷ rpm: 1/4800 + 1/1200.
        rpmReciprocal: { count: 2, sum: 1 / 4800 + 1 / 1200 },
        tcpRttMs: { count: 2, sum: 14 },
        tcpRetransmits: { count: 2, sum: 3 },
        serverConcurrentTransfers: { count: 2, sum: 6 },
        serverOutboundMbps: { count: 2, sum: 400 },
        startedAtMs: [T0, T0 + MIN, T0 + MIN, T0 + MIN, T0 + 34 * HOUR],
        failed: [0, 0, 0, 1, 0],
        throughputMbps: [50, 10, 20, NaN, 40],
        downloadMs: [100, 100, 100, NaN, 400],
        responseMs: [10, NaN, 10, NaN, 10],
      });
      // b's result is from before capability 'tcp-info': nothing to count.
      assert.deepEqual(
        [blocks[1]!.tcpRttMs, blocks[1]!.tcpRetransmits],
        [
          { count: 0, sum: 0 },
          { count: 0, sum: 0 },
        ],
      );
      assert.deepEqual(
        (await collect(s.store.clientMeasurements({ clients: ['b'], sinceMs: T0 }))).map((m) => m.client),
        ['b'],
      );

      const offsets = [
        { fromMs: 0, offsetMs: 0 },
        { fromMs: T0 + 12 * HOUR, offsetMs: 2 * HOUR },
      ];
      const p = await s.store.localTimeProfile({}, { offsets, throughputPercentiles: [0.5, 0.9], downloadPercentiles: [0.95] });
      assert.deepEqual(p.hours[0], { downloads: 5, failed: 1, bytes: 3_000_007, throughputMbps: [25, 44], downloadMs: [100] });
      assert.deepEqual(p.weekdayHours[24 + 12], { downloads: 1, failed: 0, bytes: 1_000_000, throughputMbps: [40, 40], downloadMs: [400] });
      assert.deepEqual(p.hours[1], { downloads: 0, failed: 0, bytes: 0, throughputMbps: [null, null], downloadMs: [null] });
      assert.deepEqual(
        await s.store.serverLoad([
          { fromMs: T0 + MIN, toMs: T0 + MIN },
          { fromMs: T0, toMs: T0 + 2 * MIN },
          { fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
        ]),
        [
          { results: 3, annotated: 1, meanConcurrentTransfers: 4, meanOutboundMbps: 300 },
          { results: 5, annotated: 2, meanConcurrentTransfers: 3, meanOutboundMbps: 200 },
          { results: 0, annotated: 0, meanConcurrentTransfers: null, meanOutboundMbps: null },
        ],
      );
      assert.deepEqual(await s.store.lastSeenBefore(T0 + 2 * MIN), [{ client: 'a', lastMs: T0 + MIN }]);
      assert.deepEqual(await s.store.lastSeenBefore(T0 + 3 * MIN, ['b', 'zz']), [{ client: 'b', lastMs: T0 + 2 * MIN }]);
      assert.deepEqual(await s.store.resultSpan({ clients: ['a'] }), { count: 5, firstMs: T0, lastMs: T0 + 34 * HOUR });
      assert.deepEqual(await s.store.resultSpan({ sinceMs: T0 + 40 * HOUR }), { count: 0, firstMs: null, lastMs: null });
    });
  });
}

/**
 * A shared dataset with awkward values: four clients over the spring-forward week in Berlin,
 * ties on start times, failures, absent values, throughputs and latencies with full binary
 * fractions (percentiles and orders must match bit for bit). RTTs and server load are multiples
 * of 1/8, so their sums are exact in any order of addition.
 */
function sharedDataset(): StoredResult[] {
  const random = seededRandom(9);
  const start = Date.UTC(2025, 2, 26);
  const measures: Measure[] = [];
  for (const [c, client] of ['alpha', 'beta', 'Gamma', 'delta'].entries()) {
    for (let i = 0; i < 150; i++) {
      const at = start + i * 53 * MIN + (i % 4 === 0 ? 0 : c * 17_000);
      const failed = random() < 0.08;
      measures.push({
        client,
        at,
        failed,
        mbps: random() < 0.05 ? null : 5 + 95 * random() * (c + 1),
        downloadMs: 20 + 500 * random(),
        responseMs: random() < 0.1 ? null : 1 + 30 * random(),
        bytes: Math.floor(1e6 * random()),
        idleRttMs: random() < 0.2 ? null : Math.round(80 * random()) / 8,
        loadedRttMs: random() < 0.2 ? null : Math.round(400 * random()) / 8,
        clientLimited: random() < 0.1,
        serverConcurrentTransfers: random() < 0.3 ? null : Math.floor(20 * random()),
        serverOutboundMbps: random() < 0.3 ? null : Math.round(8000 * random()) / 8,
      });
    }
  }
  return measures.map(stored);
}

describe('SQLite and PostgreSQL answer identically', () => {
  test('every analysis read method, over filters, time zones and windows, and the whole analysis', async (t) => {
    const stores: Store[] = [];
    for (const backend of BACKENDS) {
      const s = await freshStore(t, backend);
      if (!s) return;
      stores.push(s.store);
    }
    const rows = sharedDataset();
    for (const store of stores) await store.insertResults([rows.slice(0, 250), rows.slice(200)]);
    const first = Date.parse(rows[0]!.startedAt);
    const last = Math.max(...rows.map((r) => Date.parse(r.startedAt)));
    const filters = [{}, { sinceMs: first + DAY, untilMs: last - DAY }, { clients: ['beta', 'Gamma'] }, { clients: ['nobody'] }];
    const windows = [
      { fromMs: first, toMs: first + 6 * HOUR },
      { fromMs: first + HOUR, toMs: first + 2 * HOUR },
      { fromMs: last, toMs: last },
      { fromMs: last + 1, toMs: last + DAY },
    ];
    const answers = async (store: Store) => {
      const out: unknown[] = [];
      for (const f of filters) {
        out.push(await store.resultSpan(f));
        out.push((await collect(store.clientMeasurements(f))).map(plainMeasurements));
        for (const zone of ['UTC', 'Europe/Berlin', 'America/St_Johns']) {
          const offsets = offsetSpans(zone, first, last);
          out.push(
            await store.localTimeProfile(f, { offsets, throughputPercentiles: [0, 0.1, 0.5, 0.9, 1], downloadPercentiles: [0.05, 0.95] }),
          );
        }
      }
      out.push(await store.serverLoad(windows));
      out.push(await store.lastSeenBefore(first + 3 * DAY), await store.lastSeenBefore(first + 3 * DAY, ['delta', 'alpha']));
      for (const timeZone of ['UTC', 'Europe/Berlin']) out.push(toStableJson(await analyse(store, { timeZone })));
      out.push(toStableJson(await analyse(store, { sinceMs: first + 2 * DAY, clients: ['alpha', 'nobody'], bucketMs: HOUR })));
      return out;
    };
    const [fromSqlite, fromPostgres] = [await answers(stores[0]!), await answers(stores[1]!)];
    assert.equal(fromSqlite.length, fromPostgres.length);
    fromSqlite.forEach((answer, i) => assert.deepStrictEqual(fromPostgres[i], answer, `answer ${i}`));
  });

  test('exportResultsCsv writes the same results.csv from either store (SQLite in a worker thread, PostgreSQL paged)', async (t) => {
    const files: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'netprobe-csv-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const rows = sharedDataset();
    const filter = { sinceMs: Date.parse(rows[0]!.startedAt) + DAY, clients: ['alpha', 'beta'] };
    for (const backend of BACKENDS) {
      const s = await freshStore(t, backend);
      if (!s) return;
      await s.store.insertResults([rows]);
      const path = join(dir, `${backend.name}.csv`);
      const written = await s.store.exportResultsCsv(path, filter).done;
      assert.equal(written, await s.store.countResults(filter));
      files.push(await readFile(path, 'utf8'));
    }
    // Cell by cell: SQLite prints a whole REAL as '5.0' and keeps ties in start time in storage order (results-csv.ts).
    const cells = (csv: string) =>
      csv
        .trimEnd()
        .split('\n')
        .map((line) =>
          line
            .split(',')
            .map((c) => (c !== '' && Number.isFinite(Number(c)) ? String(Number(c)) : c))
            .join(','),
        )
        .sort();
    assert.ok(files[0]!.split('\n').length > 100);
    assert.deepEqual(cells(files[1]!), cells(files[0]!));
  });
});
