/** The soak (bench/soak.ts) in short: 100 clients for a few seconds; nothing lost, no server error, RSS flat. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak.js';

test('soak: 100 concurrent clients for 5 s: zero lost results, zero server errors, server RSS flat', { timeout: 120_000 }, async () => {
  const r = await runSoak({ clients: 100, durationMs: 5_000, intervalMs: 1_000 });
  const { rssMiB, ...summary } = r;
  console.log(JSON.stringify({ ...summary, rssMiB: rssMiB.filter((_, i) => i % 2 === 0) }));
  // Each client measures once a second for 5 s (500 asked); on a loaded 2-core machine fewer run, but
  // every client must have measured: the claims are about loss and errors, not speed.
  assert.ok(r.measurements >= 100, `${r.measurements} measurements`);
  assert.equal(r.lost, 0);
  assert.equal(r.unexpected, 0);
  assert.equal(r.unsent, 0);
  assert.equal(r.serverErrorLines, 0);
  assert.deepEqual(r.failureCodes, {}, 'no measurement failed');
  assert.ok(r.rssLateMaxMiB - r.rssEarlyMaxMiB < 64, `RSS ${r.rssEarlyMaxMiB} → ${r.rssLateMaxMiB} MiB`);
  assert.ok(r.pass);
});
