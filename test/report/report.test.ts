/**
 * writeReport end to end on real SQLite stores: every file, PNG sizes from IHDR, well-formed SVG,
 * summary.json equal to the analysis, results.csv row for row, escaping of hostile client names,
 * an empty store, one client, 500 clients, and a filtered window. Only the first test checks the
 * PNGs (at pngScale 2); the others draw them at pngScale 1, a quarter of the pixels to rasterise.
 */
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { toStableJson } from '../../src/analysis/json.js';
import { CHARTS } from '../../src/report/charts/index.js';
import { RESULT_CSV_COLUMNS } from '../../src/store/results-csv.js';
import { pooledCollector } from '../../src/report/data.js';
import { writeReport } from '../../src/report/report.js';
import { HOUR, MIN, T0, checkXml, fleet, parseCsv, pngSize, storeWith, tempDir } from './helpers.js';

const HOSTILE = `<img src=x onerror="alert(1)">&'"`;

test('a report holds every file: page, summary.json equal to the analysis, results.csv, each chart as SVG and PNG', async (t) => {
  const names = ['alice-lab', 'bob-office', 'carol-home', HOSTILE];
  // Uploads too (every other download time, at a quarter of the rate): the upload chart draws them.
  const downloads = fleet(names, 3);
  const uploads = downloads
    .filter((_, i) => i % 2 === 0)
    .map((m) => ({ ...m, at: m.at + 1_000, mbps: (m.mbps ?? 100) / 4, overrides: { direction: 'upload' as const, sha256Ok: null } }));
  const { store } = await storeWith(t, [...downloads, ...uploads]);
  const out = await tempDir(t);
  const stages = new Set<string>();
  const report = await writeReport(store, { outDir: out, timeZone: 'Europe/Berlin', pngScale: 2, onProgress: (p) => stages.add(p.stage) });

  assert.deepEqual([...stages], ['analyse', 'data', 'charts', 'page']);
  assert.deepEqual(
    report.charts,
    CHARTS.map((c) => c.name),
    'every chart has data',
  );
  const files = new Set(report.files.map((f) => f.path));
  for (const name of [
    'index.html',
    'summary.json',
    'results.csv',
    ...CHARTS.flatMap((c) => [`charts/${c.name}.svg`, `charts/${c.name}.png`]),
  ]) {
    assert.ok(files.has(name), `${name} listed`);
  }
  assert.deepEqual((await readdir(join(out, 'charts'))).length, CHARTS.length * 2);

  const uploadSvg = await readFile(join(out, 'charts', 'upload-throughput.svg'), 'utf8');
  assert.match(uploadSvg, /Upload throughput over time/);
  assert.match(uploadSvg, />alice-lab</);
  const expected = await analyse(store, { timeZone: 'Europe/Berlin' });
  assert.equal(await readFile(join(out, 'summary.json'), 'utf8'), toStableJson(expected));

  for (const chart of CHARTS) {
    const svg = await readFile(join(out, 'charts', `${chart.name}.svg`), 'utf8');
    const elements = checkXml(svg);
    assert.ok((elements.get('path') ?? 0) + (elements.get('rect') ?? 0) > 10, `${chart.name}: drawn`);
    const [, width, height] = /^<svg width="(\d+)" height="(\d+)"/.exec(svg) ?? [];
    const png = pngSize(await readFile(join(out, 'charts', `${chart.name}.png`)));
    assert.deepEqual(png, { width: Number(width) * 2, height: Number(height) * 2 }, `${chart.name}.png is twice the SVG`);
    assert.ok(!svg.includes('<img'), `${chart.name}: the client name is text, not markup`);
  }

  const csv = parseCsv(await readFile(join(out, 'results.csv'), 'utf8'));
  assert.deepEqual(
    csv[0],
    RESULT_CSV_COLUMNS.map(([name]) => name),
  );
  // results.csv holds both directions.
  assert.equal(csv.length - 1, expected.totals.downloads + uploads.length);
  assert.equal(report.csvRows, expected.totals.downloads + uploads.length);
  assert.ok(
    csv.slice(1).some((row) => row[1] === HOSTILE),
    'the hostile name survives the CSV round trip',
  );

  const html = await readFile(join(out, 'index.html'), 'utf8');
  assert.ok(!html.includes('<img'), 'no client name becomes markup');
  assert.ok(!/<script/i.test(html), 'no script');
  assert.ok(!/(src|href)="(https?:)?\/\//.test(html), 'nothing loaded from the network');
  assert.ok(html.includes('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;&quot;'), 'escaped in the table');
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique across the inline SVGs');
  for (const name of names.slice(0, 3)) assert.match(html, new RegExp(`data-client="${name}"`));
});

test('results.csv has one row per result in start order, with exact values and failures', async (t) => {
  const measures = fleet(['a', 'b'], 1, 30 * MIN, 7);
  const { store } = await storeWith(t, measures);
  const out = await tempDir(t);
  await writeReport(store, { outDir: out, pngScale: 1 });
  const rows = parseCsv(await readFile(join(out, 'results.csv'), 'utf8'));
  const header = rows[0]!;
  const col = (name: string) => header.indexOf(name);
  assert.equal(rows.length - 1, measures.length);
  const starts = rows.slice(1).map((r) => Date.parse(r[col('startedAt')]!));
  assert.deepEqual(
    starts,
    [...starts].sort((x, y) => x - y),
  );
  const byStart = new Map(measures.map((m) => [new Date(m.at).toISOString(), m]));
  for (const row of rows.slice(1)) {
    const m = byStart.get(row[col('startedAt')]!)!;
    assert.equal(row[col('client')], m.client);
    if (m.failed) {
      assert.equal(row[col('throughputMbps')], '');
      assert.equal(row[col('errorCode')], 'NETPROBE_TIMEOUT');
    } else {
      assert.equal(Number(row[col('throughputMbps')]), m.mbps, 'stored value, exactly');
      assert.equal(row[col('sha256Ok')], 'true');
    }
    assert.equal(row[col('clientLimited')], 'false');
  }
});

test('an empty store gives a report that says so', async (t) => {
  const { store } = await storeWith(t, []);
  const out = await tempDir(t);
  const report = await writeReport(store, { outDir: out, pngScale: 1 });
  assert.deepEqual(report.charts, []);
  assert.equal(report.csvRows, 0);
  const html = await readFile(join(out, 'index.html'), 'utf8');
  assert.match(html, /id="no-results"/);
  assert.match(html, /No results to report/);
  assert.equal(await readFile(join(out, 'results.csv'), 'utf8'), `${RESULT_CSV_COLUMNS.map(([name]) => name).join(',')}\n`);
  assert.deepEqual(await readdir(join(out, 'charts')), []);
  assert.equal(JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')).totals.downloads, 0);
});

test('a window with no results says so, and stale charts of an earlier report are removed', async (t) => {
  const { store } = await storeWith(t, fleet(['a', 'b'], 2));
  const out = await tempDir(t);
  await writeReport(store, { outDir: out, pngScale: 1 });
  assert.equal((await readdir(join(out, 'charts'))).length, (CHARTS.length - 1) * 2, 'every chart but the upload chart (no uploads)');
  await writeReport(store, { outDir: out, pngScale: 1, sinceMs: T0 + 30 * 24 * HOUR });
  assert.deepEqual(await readdir(join(out, 'charts')), []);
  assert.match(await readFile(join(out, 'index.html'), 'utf8'), /No results match this report&#39;s window from 2025-02-05 00:00/);
});

test('one client: every chart draws it alone, no "others"; without uploads no upload chart', async (t) => {
  const { store } = await storeWith(t, fleet(['solo'], 3));
  const out = await tempDir(t);
  const report = await writeReport(store, { outDir: out, pngScale: 1 });
  assert.deepEqual(
    report.charts,
    CHARTS.map((c) => c.name).filter((name) => name !== 'upload-throughput'),
  );
  for (const chart of ['throughput', 'latency', 'latency-smoke', 'bufferbloat']) {
    const svg = await readFile(join(out, 'charts', `${chart}.svg`), 'utf8');
    assert.match(svg, />solo</, `${chart} names the client`);
    assert.doesNotMatch(svg, /other client/, `${chart} has no others`);
  }
});

test('500 clients: the worst few drawn one by one, the rest as "others"; the table lists all', async (t) => {
  const names = Array.from({ length: 500 }, (_, i) => `client-${String(i).padStart(3, '0')}`);
  const { store } = await storeWith(t, fleet(names, 1, HOUR, 3));
  const out = await tempDir(t);
  const report = await writeReport(store, { outDir: out, pngScale: 1 });
  assert.deepEqual(
    report.charts,
    CHARTS.map((c) => c.name).filter((name) => name !== 'upload-throughput'),
  );
  const throughput = await readFile(join(out, 'charts', 'throughput.svg'), 'utf8');
  assert.match(throughput, />495 other clients \(median of their medians\)</);
  const latency = await readFile(join(out, 'charts', 'latency.svg'), 'utf8');
  assert.match(latency, />495 other clients</);
  const bufferbloat = await readFile(join(out, 'charts', 'bufferbloat.svg'), 'utf8');
  assert.match(bufferbloat, />486 other clients \(median\)</);
  const html = await readFile(join(out, 'index.html'), 'utf8');
  assert.equal([...html.matchAll(/<tr data-client=/g)].length, 500);
});

test('--since/--until/--client narrow every output the same way', async (t) => {
  const { store } = await storeWith(t, fleet(['a', 'b', 'c'], 4));
  const out = await tempDir(t);
  const options = { sinceMs: T0 + 24 * HOUR, untilMs: T0 + 3 * 24 * HOUR, clients: ['a', 'c'] };
  const report = await writeReport(store, { outDir: out, pngScale: 1, ...options });
  const expected = await analyse(store, options);
  assert.equal(report.summary.totals.downloads, expected.totals.downloads);
  const rows = parseCsv(await readFile(join(out, 'results.csv'), 'utf8')).slice(1);
  assert.equal(rows.length, expected.totals.downloads);
  assert.ok(rows.every((r) => r[1] === 'a' || r[1] === 'c'));
  assert.ok(rows.every((r) => Date.parse(r[5]!) >= options.sinceMs && Date.parse(r[5]!) < options.untilMs));
});

test('a bad option fails before anything is written', async (t) => {
  const { store } = await storeWith(t, fleet(['a'], 1));
  const out = join(await tempDir(t), 'never');
  await assert.rejects(writeReport(store, { outDir: out, timeZone: 'Mars/Olympus' }), { code: 'NETPROBE_USAGE' });
  await assert.rejects(readdir(out), { code: 'ENOENT' });
});

test("the chart data read alongside the analysis uses the analysis's own baselines", async (t) => {
  const { store } = await storeWith(
    t,
    fleet(['a', 'b', 'c', 'sparse'], 2).filter((m) => m.client !== 'sparse' || m.at < T0 + 2 * HOUR),
  );
  const options = { timeZone: 'America/New_York', thresholds: { baselinePercentile: 0.8 } };
  const span = await store.resultSpan();
  const pooled = pooledCollector('America/New_York', span.firstMs!, span.lastMs!);
  const summary = await analyse(store, options, { onClient: (m, a) => pooled.addClient(m, a.verdict.baselines.throughputMbps) });
  assert.equal(pooled.baselines.size, summary.clients.length);
  for (const c of summary.clients) {
    const mine = pooled.baselines.get(c.client)!;
    assert.equal(mine === null ? null : Math.round(mine * 1000) / 1000, c.baseline.throughputMbps, c.client);
  }
  assert.equal(pooled.baselines.get('sparse'), null, 'too few results for a baseline');
});
