/**
 * A PostgreSQL schema that belongs to another program (it has a `results` table, no netprobe
 * version table) is refused in one line by every command, and nothing in it is created or changed
 * (issue #15: no stack trace for a mistake a user can make; bad input never corrupts stored data).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CLI } from '../helpers/process.js';
import { adminQuery, needPostgres, schemaLocation } from '../store/helpers/postgres.js';

const run = promisify(execFile);

async function netprobe(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [CLI, ...args]);
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stderr: e.stderr ?? '' };
  }
}

test("a schema holding another program's results table: every command refuses in one line; the schema is left as it was", async (t) => {
  if (!(await needPostgres(t))) return;
  const { location, schema } = schemaLocation(t, 'np_foreign');
  await adminQuery(`CREATE SCHEMA ${schema}`);
  await adminQuery(`CREATE TABLE ${schema}.results (order_id int PRIMARY KEY, total numeric)`);
  await adminQuery(`INSERT INTO ${schema}.results VALUES (1, 9.5), (2, 12)`);

  const cases: { args: string[]; says: RegExp }[] = [
    {
      args: ['store', 'prune', '--store', location, '--older-than', '90d', '--yes'],
      says: /is not a netprobe store: schema "np_foreign_[0-9a-f]+" already holds results without netprobe's version table; nothing was changed/,
    },
    { args: ['analyse', '--store', location], says: /holds no netprobe tables/ },
  ];
  for (const c of cases) {
    const r = await netprobe(c.args);
    assert.notEqual(r.code, 0, c.args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${c.args[0]}: ${r.stderr}`);
    assert.match(lines[0]!, c.says);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const tables = await adminQuery<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
    [schema],
  );
  assert.deepEqual(
    tables.map((r) => r.table_name),
    ['results'],
    'nothing created beside it',
  );
  assert.deepEqual(await adminQuery(`SELECT order_id, total::text FROM ${schema}.results ORDER BY 1`), [
    { order_id: 1, total: '9.5' },
    { order_id: 2, total: '12' },
  ]);
});
