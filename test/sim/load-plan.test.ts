import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { planLoad } from '../../src/sim/load-plan.js';
import { BUILTIN_PROFILES } from '../../src/sim/profile.js';
import { CLI } from '../helpers/process.js';

const MiB = 1024 * 1024;
const base = { profile: BUILTIN_PROFILES['evening-peak']!, spanMs: 7 * 86_400_000, seed: 3, everyMs: 3_600_000 };

test('plan: a small fleet on a big link takes what its downloads add up to, and nobody is slowed down', () => {
  const plan = planLoad({ ...base, clients: 50, sizeBytes: MiB, linkMbps: 1_000 });
  assert.equal(plan.busiest.hour, 20);
  // By hand: measurements a day × 8 Mbit ÷ 3,600 s (a download lasts well under the hour).
  const byHandMbps = (plan.busiest.measurementsPerDay * MiB * 8) / 1e6 / 3_600;
  assert.ok(Math.abs(plan.busiest.measurementMbps - byHandMbps) <= 0.15 * byHandMbps, `${plan.busiest.measurementMbps} vs ${byHandMbps}`);
  assert.ok(plan.busiest.linkShare < 0.001, `share ${plan.busiest.linkShare}`);
  assert.equal(plan.busiest.medianSpeedToAlone, 1);
  assert.ok(plan.busiest.disturbedShare < 0.02, `disturbed ${plan.busiest.disturbedShare}`);
});

test('plan: more clients take more of the link and slow each other down, up to saturation', () => {
  const shares = [100, 1_000, 4_000].map(
    (clients) => planLoad({ ...base, clients, sizeBytes: 10 * MiB, linkMbps: 100, spanMs: 2 * 86_400_000 }).busiest,
  );
  const [few, many, most] = shares as [(typeof shares)[0], (typeof shares)[0], (typeof shares)[0]];
  // 10× the clients, about 10× the share while the link has room.
  assert.ok(many.linkShare > 7 * few.linkShare && many.linkShare < 13 * few.linkShare, `${few.linkShare} → ${many.linkShare}`);
  assert.ok(many.disturbedShare > few.disturbedShare, `${few.disturbedShare} → ${many.disturbedShare}`);
  // Offered more than the link carries: it is full and the median download runs at under half its speed alone.
  assert.ok(most.linkShare > 0.9, `share ${most.linkShare}`);
  assert.ok(most.medianSpeedToAlone! < 0.5, `median ${most.medianSpeedToAlone}`);
  assert.ok(most.queueMs > many.queueMs);
});

test('netprobe plan: the answer for the busiest hour; sizes and durations need their units', async () => {
  const run = (args: string[]) =>
    promisify(execFile)(process.execPath, [CLI, 'plan', ...args]).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
  const r = await run(['--clients', '200', '--file', '4MiB', '--every', '30m', '--link-mbps', '100', '--span', '2d']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^200 clients, a 4MiB download every 30m .* a 100 Mbit\/s link, 2 simulated days/m);
  assert.match(
    r.stdout,
    /^busiest hour {3}20:00 UTC: [\d.]+ measurements a day, [\d.]+ Mbit\/s = [\d.]+ % of the link; median download at [\d.]+ % of its undisturbed speed/m,
  );
  const bare = await run(['--file', '4']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /--file/);
});
