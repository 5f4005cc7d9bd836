import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DAY_MS, HOUR_MS, SimClock } from '../../src/sim/clock.js';
import { planFleet } from '../../src/sim/plan.js';
import { BUILTIN_PROFILES, loadProfile, profileTruth } from '../../src/sim/profile.js';
import { PathShaper, TokenBucket } from '../../src/sim/shaper.js';

test('the simulated clock compresses a day into dayMs real milliseconds', () => {
  let real = 1000;
  const clock = new SimClock(Date.UTC(2026, 10, 2), 60_000, () => real);
  assert.equal(clock.now(), Date.UTC(2026, 10, 2));
  real += 2_500; // 2.5 s real = 1 simulated hour when a day lasts 60 s
  assert.equal(clock.now(), Date.UTC(2026, 10, 2) + HOUR_MS);
  assert.equal(SimClock.hourOf(clock.now()), 1);
  assert.equal(clock.realDelayUntil(Date.UTC(2026, 10, 2) + 2 * HOUR_MS), 2_500);
  assert.equal(SimClock.hourOf(-1), 23);
});

test('the same seed gives the same schedule and caps; another seed does not', () => {
  const options = { clients: 20, seed: 42, startMs: 0, spanMs: 2 * DAY_MS, peakRatePerHour: 2, capMinMbps: 10, capMaxMbps: 500 };
  const a = planFleet(BUILTIN_PROFILES['evening-peak']!, options);
  const b = planFleet(BUILTIN_PROFILES['evening-peak']!, options);
  const c = planFleet(BUILTIN_PROFILES['evening-peak']!, { ...options, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const client of a) {
    assert.ok(client.capMbps >= 10 && client.capMbps <= 500);
    assert.deepEqual(
      [...client.measurementsAtMs].sort((x, y) => x - y),
      client.measurementsAtMs,
    );
  }
});

test('measurement activity follows the profile: the busiest hour gets the most measurements', () => {
  const profile = BUILTIN_PROFILES['evening-peak']!;
  const plan = planFleet(profile, {
    clients: 200,
    seed: 7,
    startMs: 0,
    spanMs: 3 * DAY_MS,
    peakRatePerHour: 2,
    capMinMbps: 10,
    capMaxMbps: 500,
  });
  const perHour = Array<number>(24).fill(0);
  for (const c of plan) for (const t of c.measurementsAtMs) perHour[SimClock.hourOf(t)]!++;
  const busiest = perHour.indexOf(Math.max(...perHour));
  assert.ok(Math.abs(busiest - profileTruth(profile).busiestHour) <= 1, `busiest ${busiest}`);
  assert.ok(perHour[20]! > 3 * perHour[8]!);
});

test('profile truth: evening-peak is busiest and most congested around 20:00', () => {
  const truth = profileTruth(BUILTIN_PROFILES['evening-peak']!);
  assert.equal(truth.busiestHour, 20);
  assert.equal(truth.leastCapacityHour, 20);
  assert.ok(truth.congestedHours.includes(20) && !truth.congestedHours.includes(8));
});

test('custom profiles load from YAML and invalid ones are refused clearly', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-profile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = join(dir, 'p.yaml');
  await writeFile(good, `name: custom\nactivity: [${Array(24).fill(0.5).join(',')}]\ncapacity: [${Array(24).fill(1).join(',')}]\n`);
  assert.equal(loadProfile(good).name, 'custom');
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ name: 'x', activity: [1, 2], capacity: [] }));
  assert.throws(
    () => loadProfile(bad),
    (err: Error & { code?: string }) => err.code === 'NETPROBE_CONFIG' && /activity/.test(err.message),
  );
  assert.throws(() => loadProfile('nope'), /unknown profile 'nope'/);
});

test('a token bucket paces to its rate; a path waits for its slowest bucket', () => {
  let now = 0;
  const bucket = new TokenBucket(
    () => 1_000_000,
    100_000,
    () => now,
  );
  assert.equal(bucket.reserve(100_000), 0); // the burst
  assert.equal(bucket.reserve(500_000), 500); // 0.5 MB at 1 MB/s
  now += 500;
  assert.equal(bucket.reserve(0), 0);
  const slow = new TokenBucket(
    () => 100_000,
    0,
    () => now,
  );
  const fast = new TokenBucket(
    () => 10_000_000,
    0,
    () => now,
  );
  assert.equal(new PathShaper([slow, fast]).reserve(50_000), 500);
});
