/**
 * results.csv: the SQLite fast path (SQLite formats each line) and the generic path (any Store,
 * through iterateResults) give the same cells, including text a client chose: quotes, commas,
 * line breaks, and formula starts a spreadsheet would run.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeResultsCsvGeneric } from '../../src/store/csv-export.js';
import { RESULT_CSV_COLUMNS, textCell } from '../../src/store/results-csv.js';
import { writeResultsCsvSqlite } from '../../src/store/sqlite-csv.js';
import { HOUR, T0, fleet, parseCsv, random, storeWith, tempDir } from './helpers.js';

const NASTY = [
  '=HYPERLINK("http://x")',
  'rec\x1e=sep',
  'unit\x1f-sep',
  '+1',
  '-2',
  '@SUM(A1)',
  '\tTAB',
  'a,b',
  'say "hi"',
  'two\nlines',
  'cr\rhere',
  'plain',
  'ünïcødé ✓',
];

test('text cells: quoted when needed, formula starts defused with an apostrophe', () => {
  assert.equal(textCell('plain'), 'plain');
  assert.equal(textCell('a,b'), '"a,b"');
  assert.equal(textCell('say "hi"'), '"say ""hi"""');
  assert.equal(textCell('two\nlines'), '"two\nlines"');
  assert.equal(textCell('=1+1'), `"'=1+1"`);
  assert.equal(textCell('-2'), `"'-2"`);
  assert.equal(textCell('@x'), `"'@x"`);
});

test('the SQLite fast path and the generic path write the same cells', async (t) => {
  const rand = random(11);
  const measures = fleet(['alpha', 'beta'], 1, 20 * 60_000, 5).map((m, i) => ({
    ...m,
    mbps: m.mbps === undefined ? undefined : m.mbps + rand() / 7, // full-precision doubles
    overrides: {
      ...(i % 3 === 0 && { server: NASTY[i % NASTY.length]! }),
      ...(i % 4 === 1 && { file: NASTY[(i + 3) % NASTY.length]! }),
      ...(i % 5 === 2 && { error: { code: 'NETPROBE_X', message: NASTY[(i + 5) % NASTY.length]! }, throughputMbps: null }),
      ...(i % 7 === 3 && { clientLimited: true, sha256Ok: null, dnsMs: 0.25, cpuMs: 3 }),
      ...(i % 11 === 4 && { tlsVersion: null, cipher: null, serverConcurrentTransfers: null, serverOutboundMbps: null }),
    },
  }));
  const { store, path } = await storeWith(t, measures);
  const out = await tempDir(t);
  const fast = writeResultsCsvSqlite(path, join(out, 'fast.csv'), {});
  const generic = await writeResultsCsvGeneric(store, join(out, 'generic.csv'), {});
  assert.equal(fast, measures.length);
  assert.equal(generic, measures.length);
  const a = parseCsv(await readFile(join(out, 'fast.csv'), 'utf8'));
  const b = parseCsv(await readFile(join(out, 'generic.csv'), 'utf8'));
  assert.equal(a.length, b.length);
  for (let r = 0; r < a.length; r++) {
    RESULT_CSV_COLUMNS.forEach(([name, kind], c) => {
      const x = a[r]![c]!;
      const y = b[r]![c]!;
      // Numbers may be written differently ('5.0' or '5'; 17 or 15 digits) but are the same value.
      if (kind === 'number' && r > 0) assert.equal(x === '' ? null : Number(x), y === '' ? null : Number(y), `row ${r} ${name}`);
      else assert.equal(x, y, `row ${r} ${name}`);
    });
  }
  const servers = new Set(a.slice(1).map((row) => row[2]));
  for (const text of NASTY.filter((n) => /^[=+\-@\t]/.test(n))) assert.ok(servers.has(`'${text}`), `${JSON.stringify(text)} defused`);
  assert.ok(servers.has('rec\x1e=sep') && servers.has('unit\x1f-sep'), 'control characters pass through');
  assert.ok(servers.has('two\nlines') && servers.has('say "hi"') && servers.has('a,b'), 'quoted text round-trips');
  const raw = await readFile(join(out, 'fast.csv'), 'utf8');
  assert.ok(!/(^|,)[=+@-]/m.test(raw.replaceAll(/"[^"]*"/g, '')), 'no unquoted cell starts a formula');
});

test('the fast path honours the filter like the store does', async (t) => {
  const { store, path } = await storeWith(t, fleet(['a', 'b', 'c'], 2));
  const out = await tempDir(t);
  const filter = { sinceMs: T0 + 6 * HOUR, untilMs: T0 + 30 * HOUR, clients: ['b', 'c'] };
  const rows = writeResultsCsvSqlite(path, join(out, 'x.csv'), filter);
  assert.equal(rows, await store.countResults(filter));
});

test('the export runs in a worker thread for a SQLite file and reports its rows', async (t) => {
  const { store } = await storeWith(t, fleet(['a', 'b'], 2));
  const out = await tempDir(t);
  const seen: number[] = [];
  const csv = store.exportResultsCsv(join(out, 'results.csv'), {}, (rows) => seen.push(rows));
  const rows = await csv.done;
  await csv.cancel();
  assert.equal(rows, await store.countResults());
  assert.equal(seen[seen.length - 1], rows);
  assert.equal(parseCsv(await readFile(join(out, 'results.csv'), 'utf8')).length - 1, rows);
});
