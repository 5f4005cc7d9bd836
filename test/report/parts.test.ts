/**
 * The report's pure parts: histograms and quantiles, client ranking, HTML escaping and the SVG
 * check, font metrics, smoke bucket widths, and chart builders on edge cases.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEFAULT_THRESHOLDS } from '../../src/analysis/options.js';
import { percentileSorted } from '../../src/analysis/stats.js';
import { LocalClock } from '../../src/analysis/timezone.js';
import type { AnalysisSummary } from '../../src/analysis/types.js';
import { CHARTS } from '../../src/report/charts/index.js';
import { chooseSmokeBucketMs, fineSmokeBucketMs } from '../../src/report/data.js';
import { FONT_FILES } from '../../src/report/font.js';
import { readFontMetrics } from '../../src/report/font-metrics.js';
import { checkSvg, escapeHtml, html } from '../../src/report/html.js';
import { featuredClients, rankClients, worstClients } from '../../src/report/select.js';
import { LinearHistogram, LogHistogram, cdfOfSorted } from '../../src/report/sketch.js';
import { analyse } from '../../src/analysis/analyse.js';
import { clientTable } from '../../src/report/html-sections.js';
import { MIN, T0, schedule, storeWith } from '../analysis/helpers/dataset.js';
import { random } from './helpers.js';

const HOUR = 3_600_000;

test('LogHistogram: quantiles within 2 % of the exact ones; removing values is exact', () => {
  const rand = random(3);
  const values = Array.from({ length: 20_000 }, () => Math.exp(3 + 2 * rand()) * (rand() < 0.05 ? 20 : 1));
  const h = new LogHistogram();
  h.addAll(values);
  const sorted = Float64Array.from(values).sort();
  for (const p of [0.05, 0.25, 0.5, 0.9, 0.99]) {
    const exact = percentileSorted(sorted, p)!;
    const approx = h.quantile(p)!;
    assert.ok(Math.abs(approx / exact - 1) < 0.02, `p${p * 100}: ${approx} vs ${exact}`);
  }
  const cdf = h.cdf();
  assert.equal(cdf[cdf.length - 1]![1], 1);
  assert.ok(
    cdf.every(([, share], i) => i === 0 || share >= cdf[i - 1]![1]),
    'CDF rises',
  );
  const other = new LogHistogram();
  other.addAll(values.slice(0, 500));
  const copy = new LogHistogram();
  copy.addAll(values);
  copy.removeAll(values.slice(0, 500));
  copy.merge(other);
  assert.deepEqual(copy.cdf(), h.cdf());
  assert.equal(new LogHistogram().quantile(0.5), null);
});

test('LinearHistogram: medians of ratios to 0.1 %; values above the range read as its top', () => {
  const h = new LinearHistogram(4, 4000);
  for (const v of [0.2, 0.5, 0.5123, 0.9, 7]) h.add(v);
  assert.ok(Math.abs(h.quantile(0.5)! - 0.5123) < 0.001);
  assert.equal(h.quantile(1), 4);
});

test('cdfOfSorted: 201 points from the minimum to the maximum', () => {
  const cdf = cdfOfSorted(Float64Array.from([1, 2, 3, 4, 100]));
  assert.equal(cdf.length, 201);
  assert.deepEqual(cdf[0], [1, 0]);
  assert.deepEqual(cdf[200], [100, 1]);
});

function summaryWith(
  clients: { client: string; episodes?: [number, number][]; failureRate?: number; median?: number; silent?: boolean }[],
): AnalysisSummary {
  return {
    thresholds: DEFAULT_THRESHOLDS,
    clients: clients.map((c) => ({
      client: c.client,
      episodes: c.episodes?.length ?? 0,
      downloads: { total: 100, succeeded: 100, failed: Math.round((c.failureRate ?? 0) * 100), failureRate: c.failureRate ?? 0 },
      throughputMbps: { median: c.median ?? 90 },
      baseline: { throughputMbps: 100 },
      schedule: { silent: c.silent ?? false },
    })),
    episodes: clients.flatMap((c) =>
      (c.episodes ?? []).map(([start, ms]) => ({ client: c.client, start: new Date(start).toISOString(), durationMs: ms })),
    ),
  } as unknown as AnalysisSummary;
}

test('clients are ranked worst first: time in episodes, then failures, then speed against baseline', () => {
  const s = summaryWith([
    { client: 'fine' },
    { client: 'slowish', median: 40 },
    { client: 'flaky', failureRate: 0.3 },
    { client: 'congested', episodes: [[0, 3 * HOUR]] },
    { client: 'briefly', episodes: [[0, HOUR]] },
    { client: 'gone', silent: true },
  ]);
  assert.deepEqual(
    rankClients(s).map((r) => r.client),
    ['congested', 'briefly', 'flaky', 'slowish', 'fine', 'gone'],
  );
  assert.deepEqual(
    worstClients(s).map((r) => r.client),
    ['congested', 'briefly', 'flaky', 'gone'],
  );
  assert.deepEqual(featuredClients(s, 6).others, []);
  assert.deepEqual(featuredClients(s, 4), { clients: ['congested', 'briefly', 'flaky'], others: ['fine', 'gone', 'slowish'] });
});

test('html escapes every interpolated value; nested html passes through', () => {
  const name = `<b onmouseover="x">&'`;
  assert.equal(escapeHtml(name), '&lt;b onmouseover=&quot;x&quot;&gt;&amp;&#39;');
  assert.equal(
    html`<td title="${name}">${[html`<i>${name}</i>`, 3, null, false]}</td>`.text,
    `<td title="${escapeHtml(name)}"><i>${escapeHtml(name)}</i>3</td>`,
  );
});

test('checkSvg refuses active SVG, not text that looks like it', () => {
  checkSvg('<svg><text>&lt;script&gt; onload=1 javascript:x</text></svg>', 'ok');
  for (const bad of [
    '<svg><script>x</script></svg>',
    '<svg><g onload="x"></g></svg>',
    '<svg><a href="javascript:x"></a></svg>',
    '<svg><foreignObject/></svg>',
  ]) {
    assert.throws(() => checkSvg(bad, 'bad'), /active/);
  }
});

test('font metrics: DejaVu Sans advance widths', () => {
  const regular = readFontMetrics(readFileSync(FONT_FILES.regular));
  const bold = readFontMetrics(readFileSync(FONT_FILES.bold));
  // DejaVu Sans: 'M' is 1767/2048 em, a space 651/2048 em.
  assert.ok(Math.abs(regular.width('M', 2048) - 1767) < 0.5);
  assert.ok(Math.abs(regular.width(' ', 2048) - 651) < 0.5);
  assert.ok(bold.width('netprobe', 12) > regular.width('netprobe', 12));
});

test('smoke buckets: at most 240 over the window, wide enough for a typical client to fill them', () => {
  const day = 24 * HOUR;
  assert.equal(fineSmokeBucketMs(day), 10 * 60_000);
  assert.equal(fineSmokeBucketMs(35 * day), 6 * HOUR);
  // 12 results an hour: 1 h holds 12 ≥ 8; but a day of 10 min buckets is finer than needed.
  assert.equal(chooseSmokeBucketMs(day, 12 / HOUR), HOUR);
  // Sparse: 1 result an hour over 3 days: 12 h would fill, but 6 h keeps 12 buckets.
  assert.equal(chooseSmokeBucketMs(3 * day, 1 / HOUR), 6 * HOUR);
});

test('every chart builder returns null when there is nothing to draw', () => {
  const summary = {
    ...summaryWith([]),
    window: { timeZone: 'UTC', firstResult: null, lastResult: null },
    totals: { downloads: 0 },
    hourOfDay: [],
    series: { bucketMs: HOUR, clients: [], network: [] },
    networkEpisodes: [],
    busiestHour: { hour: null },
    mostCongestedHour: { hour: null },
  } as unknown as AnalysisSummary;
  const data = {
    smokeBucketMs: HOUR,
    latency: [],
    smoke: [],
    weekdayHour: Array.from({ length: 168 }, () => ({ relative: null, results: 0 })),
  };
  for (const spec of CHARTS)
    assert.equal(
      spec.build({ summary, data, featured: { clients: [], others: [] }, clock: new LocalClock([{ fromMs: 0, offsetMs: 0 }]) }),
      null,
      spec.name,
    );
});

test("the client table: the sender TCP's RTT and retransmits; – for a client whose results are from before tcp-info", async (t) => {
  const store = await storeWith(t, [
    ...schedule('fresh', T0, 5 * MIN, 3, (i) => ({ tcpRttMs: [10, 20, 30][i]!, tcpRetransmits: [1, 0, 4][i]! })),
    ...schedule('older', T0, 5 * MIN, 3),
  ]);
  const table = clientTable(await analyse(store)).text;
  const row = (client: string) => new RegExp(`<tr data-client="${client}"[\\s\\S]*?</tr>`).exec(table)?.[0] ?? '';
  assert.match(row('fresh'), /<td>20\.0 ms <span class="dim">·<\/span> 5<\/td>/);
  assert.match(table, /<th>TCP<small>sender RTT · retransmits<\/small><\/th>/);
  // The older client's TCP cell is the dash, right after its bufferbloat cell.
  assert.match(row('older'), /<td>–<\/td>\n<td>–<\/td>\n<td>0<\/td>/);
});
