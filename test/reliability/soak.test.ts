/**
 * The soak (bench/soak.ts): 100 clients for 5 s in `npm test`; in `npm run test:long`, the bench's
 * full size, 1,000 clients measuring every 30 s (±50 %) for 60 s. Nothing lost, no server error,
 * server RSS flat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak.js';
import { sized } from '../helpers/suite.js';

const SIZE = sized({
  quick: { clients: 100, durationMs: 5_000, intervalMs: 1_000 },
  long: { clients: 1_000, durationMs: 60_000, intervalMs: 30_000 },
});

test(
  `soak: ${SIZE.clients} concurrent clients for ${SIZE.durationMs / 1000} s: zero lost results, zero server errors, server RSS flat`,
  { timeout: sized({ quick: 120_000, long: 600_000 }) },
  async () => {
    const r = await runSoak(SIZE);
    const { rssMiB, ...summary } = r;
    console.log(JSON.stringify({ ...summary, rssMiB: rssMiB.filter((_, i) => i % 2 === 0) }));
    // On a loaded 2-core machine fewer runs happen than the schedule asks, but every client must have
    // measured: the claims are about loss and errors, not speed.
    assert.ok(r.measurements >= SIZE.clients, `${r.measurements} measurements`);
    assert.equal(r.lost, 0);
    assert.equal(r.unexpected, 0);
    assert.equal(r.unsent, 0);
    assert.equal(r.serverErrorLines, 0);
    assert.deepEqual(r.failureCodes, {}, 'no measurement failed');
    assert.ok(r.rssLateMaxMiB - r.rssEarlyMaxMiB < 64, `RSS ${r.rssEarlyMaxMiB} → ${r.rssLateMaxMiB} MiB`);
    assert.ok(r.pass);
  },
);
