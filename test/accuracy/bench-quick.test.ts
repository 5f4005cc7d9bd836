/**
 * The benchmark suite in its --quick form (one to two minutes on 2 cores), so the benches never rot.
 * Load-heavy, so it runs in `npm run test:long` (CI runs it) and is skipped in `npm test`. The full
 * results in bench/results/ are put back afterwards (the quick run overwrites them meanwhile). How
 * long it took is reported, not asserted: the benches' own targets say what is fast enough.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnChild, stopChild } from '../helpers/children.js';
import { longOnly } from '../helpers/suite.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS = join(ROOT, 'bench', 'results');

function snapshot(): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(RESULTS)) return files;
  for (const f of readdirSync(RESULTS)) if (f.endsWith('.json') || f.endsWith('.md')) files.set(f, readFileSync(join(RESULTS, f), 'utf8'));
  return files;
}

test('npm run bench -- --quick: every bench runs, exit 0, summary written', { ...longOnly, timeout: 10 * 60_000 }, async (t) => {
  const before = snapshot();
  t.after(() => {
    // Put the full run's files back; drop files the quick run added.
    for (const f of snapshot().keys()) if (!before.has(f)) rmSync(join(RESULTS, f), { force: true });
    for (const [f, text] of before) writeFileSync(join(RESULTS, f), text);
  });
  const startedAt = Date.now();
  const child = spawnChild(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'run.ts'), '--quick'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => stopChild(child, 'SIGTERM', 2_000));
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const seconds = (Date.now() - startedAt) / 1000;
  t.diagnostic(`bench/run.ts --quick: exit ${code} in ${seconds.toFixed(0)} s`);
  assert.equal(code, 0, `bench/run.ts --quick failed:\n${out.slice(-5_000)}\n${err}`);

  const summary = JSON.parse(readFileSync(join(RESULTS, 'summary.json'), 'utf8')) as {
    at: string;
    quick: boolean;
    benches: { name: string; status: string }[];
    rows: { bench: string; netprobe: number }[];
  };
  assert.ok(Date.parse(summary.at) >= startedAt, 'summary.json written by this run');
  assert.equal(summary.quick, true);
  for (const name of ['throughput', 'accuracy', 'concurrency']) {
    assert.ok(
      summary.benches.some((b) => b.name === name),
      `${name} ran`,
    );
  }
  // A bench's own target missed on a loaded CI machine is a finding, not rot.
  for (const b of summary.benches) assert.ok(['ok', 'skipped', 'target missed'].includes(b.status), `${b.name}: ${b.status}`);
  assert.ok(
    summary.rows.some((r) => r.bench === 'throughput' && r.netprobe > 0),
    'throughput rows collected',
  );
  assert.ok(readFileSync(join(RESULTS, 'summary.md'), 'utf8').includes('| bench | metric |'));
});
