import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearer, promtoolCheck, request, requireTool, startWebFixture } from './helpers.js';

test('promtool check metrics accepts /metrics (names, units, HELP, TYPE, histograms)', async (t) => {
  const promtool = await requireTool('/usr/bin/promtool', 'install the Debian prometheus package to lint the exposition');
  if (!promtool) return t.skip('promtool is not installed');
  const f = await startWebFixture(['alice', 'bob']);
  t.after(() => f.close());
  // Every labelled series present: a transfer, a stored result, a duplicate, an upload with RPM, a failed result, a refused REPORT.
  const r = await f.measure('alice', { throughputMbps: 90 });
  await f.report('alice', [r]);
  await f.measure('alice', { direction: 'upload', throughputMbps: 40, rpm: 900, rpmProbes: 30 });
  await f.measure('bob', { error: { code: 'NETPROBE_CONNECT_TIMEOUT', message: 'timeout' }, throughputMbps: null });
  const text = (await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) })).body;
  assert.match(text, /netprobe_results_duplicate_total 1/);
  const { status, output } = await promtoolCheck(promtool, text);
  assert.equal(status, 0, `promtool check metrics:\n${output}`);
  assert.equal(output.trim(), '', 'no lint warnings');
});
