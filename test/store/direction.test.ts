/**
 * Schema 3 (SQLite) / 2 (PostgreSQL): results gain `direction` and `server_limited`. Rows stored
 * before the migration read back as downloads; uploads keep their direction and serverLimited.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { StoredResult } from '../../src/protocol/result.js';
import { RESULT_COLUMNS, toRow } from '../../src/store/rows.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite-schema.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { partitionName, monthOf, monthStartMs } from '../../src/store/postgres-partitions.js';
import { stored } from '../analysis/helpers/dataset.js';
import { analyse } from '../../src/analysis/analyse.js';
import { renderSummaryTables } from '../../src/analysis/table.js';
import { BACKENDS, collect, freshStore, openFor } from './helpers/backends.js';
import { adminQuery, needPostgres, schemaLocation } from './helpers/postgres.js';

const AT = Date.UTC(2025, 0, 6, 12);
const NEW_COLUMNS = new Set([
  'direction',
  'server_limited',
  'rpm',
  'rpm_probes',
  'streams',
  'streams_mbps',
  'tls_resumed',
  'rpm_foreign',
  'rpm_self',
  'rpm_self_probes',
  'tcp_rtt_ms',
  'tcp_retransmits',
]);
const OLD_COLUMNS = RESULT_COLUMNS.filter((c) => !NEW_COLUMNS.has(c));

function upload(): StoredResult {
  return { ...stored({ client: 'a', at: AT + 60_000 }), direction: 'upload', serverLimited: true, sha256Ok: null };
}

describe('result direction', () => {
  for (const backend of BACKENDS) {
    test(`${backend.name}: an upload keeps direction and serverLimited; a download has neither`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const down = stored({ client: 'a', at: AT });
      const up = upload();
      await fresh.store.insertResults([[down, up]]);
      const rows = await collect(fresh.store.iterateResults());
      const byId = new Map(rows.map((r) => [r.id, r]));
      assert.equal(byId.get(up.id)?.direction, 'upload');
      assert.equal(byId.get(up.id)?.serverLimited, true);
      assert.equal(Object.hasOwn(byId.get(down.id)!, 'direction'), false);
      assert.deepEqual(byId.get(down.id), down);
    });

    test(`${backend.name}: tlsResumed true and false are kept; a result without it has none`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const resumed = { ...stored({ client: 'a', at: AT }), tlsResumed: true };
      const full = { ...stored({ client: 'a', at: AT + 1 }), tlsResumed: false };
      const unknown = stored({ client: 'a', at: AT + 2 });
      await fresh.store.insertResults([[resumed, full, unknown]]);
      const byId = new Map((await collect(fresh.store.iterateResults())).map((r) => [r.id, r]));
      assert.deepEqual(byId.get(resumed.id), resumed);
      assert.deepEqual(byId.get(full.id), full);
      assert.deepEqual(byId.get(unknown.id), unknown);
    });

    test(`${backend.name}: foreign and self RPM with the self probe count are kept; a result without them has none`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const both = { ...stored({ client: 'a', at: AT, rpm: 1_000, rpmProbes: 20 }), rpmForeign: 1_500, rpmSelf: 500, rpmSelfProbes: 18 };
      const noSelf = { ...stored({ client: 'a', at: AT + 1, rpm: 857, rpmProbes: 1 }), rpmForeign: 857, rpmSelf: null, rpmSelfProbes: 0 };
      const before = stored({ client: 'a', at: AT + 2, rpm: 600, rpmProbes: 3 });
      await fresh.store.insertResults([[both, noSelf, before]]);
      const byId = new Map((await collect(fresh.store.iterateResults())).map((r) => [r.id, r]));
      assert.deepEqual(byId.get(both.id), both);
      assert.deepEqual(byId.get(noSelf.id), noSelf);
      assert.deepEqual(byId.get(before.id), before);
    });

    test(`${backend.name}: the sender's TCP RTT and retransmits are kept, also as null; a result without them has none`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const measured = { ...stored({ client: 'a', at: AT }), tcpRttMs: 12.345, tcpRetransmits: 3 };
      const unreadable = { ...stored({ client: 'a', at: AT + 1 }), tcpRttMs: null, tcpRetransmits: 0 };
      const before = stored({ client: 'a', at: AT + 2 });
      await fresh.store.insertResults([[measured, unreadable, before]]);
      const byId = new Map((await collect(fresh.store.iterateResults())).map((r) => [r.id, r]));
      assert.deepEqual(byId.get(measured.id), measured);
      assert.deepEqual(byId.get(unreadable.id), unreadable);
      assert.deepEqual(byId.get(before.id), before);
    });
  }

  test('sqlite: rows of schema 2 become downloads after the migration', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'netprobe-store-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'results.db');
    const db = new Database(file);
    db.exec(SQLITE_MIGRATIONS[0]!);
    db.exec(SQLITE_MIGRATIONS[1]!);
    db.pragma('user_version = 2');
    const old = stored({ client: 'a', at: AT });
    const row = toRow(old) as Record<string, unknown>;
    db.prepare(`INSERT INTO results (${OLD_COLUMNS.join(',')}) VALUES (${OLD_COLUMNS.map((c) => `@${c}`).join(',')})`).run(
      Object.fromEntries(OLD_COLUMNS.map((c) => [c, row[c]])),
    );
    db.close();
    const store = await openFor(t, `sqlite:${file}`);
    const rows = await collect(store.iterateResults());
    assert.deepEqual(rows, [old]);
    await store.insertResults([[upload()]]);
    assert.equal((await collect(store.iterateResults())).filter((r) => r.direction === 'upload').length, 1);
  });

  test('postgres: rows of schema 1 become downloads after the migration', async (t) => {
    if (!(await needPostgres(t))) return;
    const { location, schema } = schemaLocation(t);
    const old = stored({ client: 'a', at: AT });
    const row = toRow(old) as Record<string, unknown>;
    const month = monthOf(AT);
    await adminQuery(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}; ${POSTGRES_MIGRATIONS[0]!};
      CREATE TABLE netprobe_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
      INSERT INTO netprobe_schema (version) VALUES (1);
      CREATE TABLE ${partitionName(month)} PARTITION OF results FOR VALUES FROM (${monthStartMs(month)}) TO (${monthStartMs(month + 1)});`);
    const values = OLD_COLUMNS.map((c) => (c === 'client_limited' || c === 'sha256_ok' ? (row[c] === null ? null : row[c] === 1) : row[c]));
    await adminQuery(`INSERT INTO ${schema}.result_ids (id, started_at_ms) VALUES ($1, $2)`, [old.id, row.started_at_ms]);
    await adminQuery(
      `INSERT INTO ${schema}.results (${OLD_COLUMNS.join(',')}) VALUES (${OLD_COLUMNS.map((_, i) => `$${i + 1}`).join(',')})`,
      values,
    );
    const store = await openFor(t, location);
    assert.deepEqual(await collect(store.iterateResults()), [old]);
    await store.insertResults([[upload()]]);
    assert.equal((await collect(store.iterateResults())).filter((r) => r.direction === 'upload').length, 1);
  });
});

describe('analysis per direction', () => {
  for (const backend of BACKENDS) {
    test(`${backend.name}: analyse takes one direction at a time (download by default), by the same rules`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const downs = Array.from({ length: 6 }, (_, i) => stored({ client: 'a', at: AT + i * 600_000, mbps: 100 }));
      const ups = Array.from({ length: 4 }, (_, i) => ({
        ...stored({ client: 'a', at: AT + i * 600_000 + 1_000, mbps: 10 }),
        direction: 'upload' as const,
        serverLimited: false,
      }));
      await fresh.store.insertResults([[...downs, ...ups]]);
      const down = await analyse(fresh.store);
      const up = await analyse(fresh.store, { direction: 'upload' });
      assert.equal(down.totals.downloads, 6);
      assert.equal(up.totals.downloads, 4);
      assert.equal(down.clients[0]!.throughputMbps.median, 100);
      assert.equal(up.clients[0]!.throughputMbps.median, 10);
    });

    test(`${backend.name}: the summary says its direction and how many results of the other one it left out`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const downs = Array.from({ length: 3 }, (_, i) => stored({ client: 'a', at: AT + i * 600_000, mbps: 100 }));
      const ups = Array.from({ length: 2 }, (_, i) => ({
        ...stored({ client: 'a', at: AT + i * 600_000 + 1_000, mbps: 10, rpm: 1_200, rpmProbes: 40 }),
        direction: 'upload' as const,
        serverLimited: false,
      }));
      // Outside the window: not counted as left out.
      const later = { ...stored({ client: 'a', at: AT + 86_400_000, mbps: 10 }), direction: 'upload' as const, serverLimited: false };
      await fresh.store.insertResults([[...downs, ...ups, later]]);
      const untilMs = AT + 3_600_000;
      const down = await analyse(fresh.store, { untilMs });
      const up = await analyse(fresh.store, { untilMs, direction: 'upload' });
      assert.equal(down.window.direction, 'download');
      assert.equal(down.window.otherDirectionResults, 2);
      assert.equal(up.window.direction, 'upload');
      assert.equal(up.window.otherDirectionResults, 3);

      const downText = renderSummaryTables(down);
      const upText = renderSummaryTables(up);
      assert.match(downText, /^1 clients, 3 downloads, 0 failed/m);
      assert.match(downText, /^2 upload results in the same window are analysed apart: --direction upload$/m);
      assert.match(upText, /^netprobe analysis of uploads:/m);
      assert.match(upText, /^1 clients, 2 uploads, 0 failed/m);
      assert.match(upText, /^3 download results in the same window are analysed apart: --direction download$/m);
      assert.match(upText, /^client\s+uploads\s+failed/m);
      assert.match(upText, /^Uploads by weekday and hour/m);
      // The latency table carries each client's RPM (the harmonic mean of its results').
      assert.match(upText, /^client\s+latency avg.*\s+rpm\s+client-limited$/m);
      assert.match(upText, /^a\s+.*\s+1200\s+[\d.]+%$/m);
      assert.doesNotMatch(downText, /analysis of uploads/);
    });
  }
});
