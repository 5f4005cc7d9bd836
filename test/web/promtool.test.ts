import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { bearer, request, requireTool, startWebFixture } from './helpers.js';

/** Runs `promtool check metrics` on `text` (stdin); resolves with its exit status and output. */
function promtoolCheck(promtool: string, text: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
    child.stdin.end(text);
  });
}

test('promtool check metrics accepts /metrics (names, units, HELP, TYPE, histograms)', async (t) => {
  const promtool = await requireTool('/usr/bin/promtool', 'install the Debian prometheus package to lint the exposition');
  if (!promtool) return t.skip('promtool is not installed');
  const f = await startWebFixture(['alice', 'bob']);
  t.after(() => f.close());
  // Every labelled series present: a transfer, a stored result, a duplicate, a failed result, a refused REPORT.
  const r = await f.measure('alice', { throughputMbps: 90 });
  await f.report('alice', [r]);
  await f.measure('bob', { error: { code: 'NETPROBE_CONNECT_TIMEOUT', message: 'timeout' }, throughputMbps: null });
  const text = (await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) })).body;
  assert.match(text, /netprobe_results_duplicate_total 1/);
  const { status, output } = await promtoolCheck(promtool, text);
  assert.equal(status, 0, `promtool check metrics:\n${output}`);
  assert.equal(output.trim(), '', 'no lint warnings');
});
