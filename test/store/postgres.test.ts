/**
 * What only the PostgreSQL store has: locations with a schema, monthly partitions, several
 * processes sharing the database (migration and partition DDL under advisory locks), failures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openStore } from '../../src/store/open.js';
import { parsePostgresLocation, redactPassword } from '../../src/store/postgres-location.js';
import { monthOf, monthStartMs, partitionName } from '../../src/store/postgres-partitions.js';
import { schedule, stored } from '../analysis/helpers/dataset.js';
import { openFor } from './helpers/backends.js';
import { TEST_POSTGRES, adminQuery, needPostgres, schemaLocation } from './helpers/postgres.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';

const partitionsOf = async (schema: string) =>
  (
    await adminQuery<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '${schema}.results'::regclass ORDER BY 1`,
    )
  ).map((r) => r.name);

describe('PostgreSQL locations', () => {
  test('schema and options are taken out of the URL; the password never shows', () => {
    const loc = parsePostgresLocation(
      'postgres://np:s3cret@db.example:5433/probe?schema=np_1&sslmode=require&options=-c%20statement_timeout%3D5s',
    );
    assert.equal(loc.schema, 'np_1');
    assert.equal(loc.options, '-c statement_timeout=5s');
    assert.equal(loc.connectionString, 'postgres://np:s3cret@db.example:5433/probe?sslmode=require');
    assert.equal(loc.display, 'postgres://np:***@db.example:5433/probe?schema=np_1&sslmode=require&options=-c%20statement_timeout%3D5s');
    assert.equal(parsePostgresLocation('postgresql://localhost/x').schema, null);
    assert.equal(redactPassword('postgres://h/db?password=abc&x=1'), 'postgres://h/db?password=***&x=1');
    for (const bad of ['Np', 'np-1', '1np', 'np;drop', 'a'.repeat(64)]) {
      assert.throws(
        () => parsePostgresLocation(`postgres://h/db?schema=${bad}`),
        (err: Error & { code?: string }) => err.code === 'NETPROBE_USAGE',
        bad,
      );
    }
  });

  test('partition names and bounds are UTC months', () => {
    const march = monthOf(Date.UTC(2025, 2, 31, 23, 59, 59, 999));
    assert.equal(partitionName(march), 'results_p202503');
    assert.equal(monthStartMs(march), Date.UTC(2025, 2, 1));
    assert.equal(monthStartMs(march + 10), Date.UTC(2026, 0, 1));
    assert.equal(partitionName(monthOf(Date.UTC(2025, 3, 1))), 'results_p202504');
    assert.equal(partitionName(monthOf(Date.parse('0099-12-31T00:00:00Z'))), 'results_p009912');
  });
});

describe('PostgreSQL store', () => {
  test('monthly partitions are made as results arrive and dropped whole by prune; a collector that did not see the prune recovers', async (t) => {
    if (!(await needPostgres(t))) return;
    const { location, schema } = schemaLocation(t);
    const [one, two] = [await openFor(t, location), await openFor(t, location)];
    const now = monthOf(Date.now());
    const around = [now - 1, now, now + 1].map(partitionName);
    assert.deepEqual(await partitionsOf(schema), around.sort(), 'made at start: last, this and next month');

    const rows = schedule('a', Date.UTC(2024, 10, 20), 5 * 86_400_000, 12).map(stored); // 20 Nov 2024 … 14 Jan 2025
    await one.insertResults([rows.slice(0, 8)]);
    await two.insertResults([rows.slice(2)]); // `two` learns of November from its own rows
    assert.deepEqual(
      (await partitionsOf(schema)).filter((n) => !around.includes(n)),
      ['results_p202411', 'results_p202412', 'results_p202501'],
    );
    const [rowsIn] = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.results_p202412`);
    assert.equal(rowsIn!.n, 6);

    assert.deepEqual(await one.prune(Date.UTC(2025, 0, 1)), { results: 9, transfers: 0 });
    assert.deepEqual(
      (await partitionsOf(schema)).filter((n) => !around.includes(n)),
      ['results_p202501'],
    );
    // `two` still believes November exists: its insert finds no partition, re-reads, makes it, retries.
    assert.deepEqual(await two.insertResults([[rows[0]!], [rows[11]!]]), [
      { inserted: 1, duplicates: 0 },
      { inserted: 0, duplicates: 1 },
    ]);
    assert.equal(await one.countResults(), 4);
  });

  test('stores opening an empty schema at once migrate it once; readers cannot write', async (t) => {
    if (!(await needPostgres(t))) return;
    const { location, schema } = schemaLocation(t);
    const stores = await Promise.all(Array.from({ length: 4 }, () => openFor(t, location)));
    assert.deepEqual(
      await adminQuery(`SELECT version FROM ${schema}.netprobe_schema ORDER BY version`),
      POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1 })),
    );
    await stores[0]!.insertResults([[stored({ client: 'a', at: Date.UTC(2025, 0, 6) })]]);
    const reader = await openFor(t, location, { readonly: true });
    assert.equal(await reader.countResults(), 1);
    await assert.rejects(
      reader.insertResults([[stored({ client: 'a', at: Date.UTC(2025, 0, 7) })]]),
      (err: Error & { code?: string }) => err.code === 'NETPROBE_STORAGE' && /read-only/.test(err.message),
    );
  });

  test('an unreachable server is a storage error naming the location without its password', async (t) => {
    if (!(await needPostgres(t))) return;
    const url = new URL(TEST_POSTGRES);
    url.port = '1';
    url.password = 'hunter2';
    await assert.rejects(openStore(url.toString()), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NETPROBE_STORAGE');
      assert.match(err.message, /opening failed on PostgreSQL store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    });
  });
});
