/**
 * Per-client Prometheus series (blackbox_exporter style) and the shipped Grafana dashboard: every
 * metric a dashboard query names exists in a live /metrics, promtool accepts the exposition, and
 * the cardinality guard keeps clients beyond --metrics-max-clients out of the per-client series.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bearer, promtoolCheck, request, requireTool, startWebFixture } from './helpers.js';

const BOARD = fileURLToPath(new URL('../../deploy/grafana/netprobe.json', import.meta.url));

interface Board {
  panels: { title: string; targets: { expr: string }[] }[];
  templating: { list: { query?: string | { query: string } }[] };
}

/** Sample names in an exposition (histograms show as _bucket, _sum, _count). */
const sampleNames = (text: string) =>
  new Set(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)![0]),
  );

test('per-client series, every Grafana query resolved against a live /metrics, promtool clean', async (t) => {
  const f = await startWebFixture(['alice', 'bob', 'carol']);
  t.after(() => f.close());
  await f.measure('alice', { throughputMbps: 90, idleRttMs: 4, loadedRttMs: 40, responseMs: 12 });
  await f.measure('bob', { error: { code: 'NETPROBE_CONNECT_TIMEOUT', message: 'timeout' }, throughputMbps: null });
  await f.measure('carol', { error: { code: 'NETPROBE_TLS_UNAUTHORIZED', message: 'bad CA' }, throughputMbps: null });
  const text = (await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) })).body;

  assert.match(text, /netprobe_client_last_idle_rtt_seconds\{client="alice"\} 0\.004\n/);
  assert.match(text, /netprobe_client_last_loaded_rtt_seconds\{client="alice"\} 0\.04\n/);
  assert.match(text, /netprobe_client_last_response_seconds\{client="alice"\} 0\.012\n/);
  assert.match(text, /netprobe_client_last_success_timestamp_seconds\{client="alice"\} \d{10}/);
  assert.match(text, /netprobe_client_throughput_bytes_per_second_count\{client="alice"\} 1\n/);
  assert.match(text, /netprobe_client_measurements_total\{client="bob"\} 1\n/);
  assert.match(text, /netprobe_client_failures_total\{client="bob",class="network"\} 1\n/);
  assert.match(text, /netprobe_client_failures_total\{client="carol",class="setup"\} 1\n/);
  assert.match(text, /netprobe_client_failures_total\{client="alice",class="network"\} 0\n/);
  assert.doesNotMatch(text, /netprobe_client_last_success_timestamp_seconds\{client="bob"\}/, 'bob never succeeded');

  const board = JSON.parse(await readFile(BOARD, 'utf8')) as Board;
  const exprs = [
    ...board.panels.flatMap((p) => p.targets.map((q) => q.expr)),
    ...board.templating.list.map((v) => (typeof v.query === 'object' ? v.query.query : '')).filter((q) => q.includes('netprobe_')),
  ];
  assert.ok(board.panels.length >= 6 && exprs.length >= 10, 'a dashboard, not a stub');
  const present = sampleNames(text);
  const missing = [...new Set(exprs.flatMap((e) => e.match(/\bnetprobe_[a-z0-9_]+/g) ?? []))].filter((m) => !present.has(m));
  assert.deepEqual(missing, [], 'every metric a dashboard query uses is exposed');

  const promtool = await requireTool('/usr/bin/promtool', 'install the Debian prometheus package to lint the exposition');
  if (!promtool) return t.skip('promtool is not installed');
  const { status, output } = await promtoolCheck(promtool, text);
  assert.equal(status, 0, output);
  assert.equal(output.trim(), '', 'no lint warnings');
});

test('cardinality guard: clients beyond metricsMaxClients get no series of their own, only the aggregates', async (t) => {
  const f = await startWebFixture(['alice', 'bob'], { metricsMaxClients: 1 });
  t.after(() => f.close());
  await f.measure('alice', { throughputMbps: 90 });
  await f.measure('bob', { throughputMbps: 50 });
  await f.measure('bob', { throughputMbps: 60 });
  const text = (await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) })).body;
  assert.match(text, /netprobe_client_measurements_total\{client="alice"\} 1\n/);
  assert.doesNotMatch(text, /netprobe_client_measurements_total\{client="bob"\}/);
  assert.match(text, /netprobe_clients_without_series 1\n/);
  assert.match(text, /netprobe_result_throughput_bytes_per_second_count 3\n/, 'the server-wide histogram has every result');
});
