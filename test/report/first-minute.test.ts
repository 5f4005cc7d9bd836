/**
 * A first short run already draws: 90 seconds of results (two clients, one every 5 s each) give a
 * throughput chart and a latency-over-time chart with a line of several points and a labelled time
 * axis, not one dot in a single 5-minute bucket.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeReport } from '../../src/report/report.js';
import { type Measure, T0, checkXml, storeWith, tempDir } from './helpers.js';

/** Points of each drawn line: path data made only of M/L commands (ECharts' polylines). */
function linePoints(svg: string): number[] {
  return [...svg.matchAll(/<path d="([^"]+)"[^>]*fill="none"/g)]
    .map((m) => m[1]!)
    .filter((d) => /^M[\d.\s-]+(L[\d.\s-]+)+Z?$/.test(d.trim()))
    .map((d) => (d.match(/[ML]/g) ?? []).length);
}

/** Text of the axis labels that look like clock times. */
const timeLabels = (svg: string) => [...svg.matchAll(/>(\d\d:\d\d(:\d\d)?)</g)].map((m) => m[1]!);

test('a 90-second run yields throughput and latency charts with a line of ≥ 5 points and time labels', async (t) => {
  const measures: Measure[] = [];
  for (const [c, client] of ['alice', 'bob'].entries()) {
    for (let at = T0 + c * 1_000; at < T0 + 90_000; at += 5_000)
      measures.push({ client, at, mbps: 80 + 10 * c + (at % 7), responseMs: 10 + (at % 5) });
  }
  const { store } = await storeWith(
    t,
    measures.sort((a, b) => a.at - b.at),
  );
  const out = join(await tempDir(t), 'report');
  const report = await writeReport(store, { outDir: out, timeZone: 'UTC' });
  for (const chart of ['throughput', 'latency-smoke']) {
    assert.ok(report.charts.includes(chart), `${chart} has data: ${report.charts.join(', ')}`);
    const svg = await readFile(join(out, 'charts', `${chart}.svg`), 'utf8');
    checkXml(svg);
    const lines = linePoints(svg);
    assert.ok(
      lines.some((n) => n >= 5),
      `${chart}: a line with ≥ 5 points (lines: ${JSON.stringify(lines)})`,
    );
    assert.ok(timeLabels(svg).length >= 2, `${chart}: the time axis is labelled (${timeLabels(svg).join(', ')})`);
  }
});
