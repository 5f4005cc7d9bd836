/**
 * Property: over random seeds × every built-in profile and random custom profiles (peak hour drawn
 * at random), the analyser names one of the model's busiest hours and one of its congested hours;
 * and incidents injected with a known cause (shared link, one access link, server load) are given
 * that cause. The model engine's results go straight into a real SQLite store here (the reporting
 * path is tested in simulate.test.ts), while a CPU burner runs beside it: the model's truth does not
 * depend on the machine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { analyse } from '../../src/analysis/analyse.js';
import type { StoredResult } from '../../src/protocol/result.js';
import { checkTruth, type TruthCheck } from '../../src/sim/check.js';
import { DAY_MS, HOUR_MS } from '../../src/sim/clock.js';
import { ModelEngine } from '../../src/sim/model/engine.js';
import { DEFAULT_NETWORK } from '../../src/sim/model/network.js';
import { toResult } from '../../src/sim/model/result.js';
import { hoursOfDay, truthVerdicts } from '../../src/sim/model/truth.js';
import { planFleet } from '../../src/sim/plan.js';
import { BUILTIN_PROFILES, type Profile, bump, invert } from '../../src/sim/profile.js';
import { seededRandom } from '../../src/sim/random.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { sized } from '../helpers/suite.js';

const SIZE = sized({ quick: { seeds: 3, custom: 3 }, long: { seeds: 20, custom: 10 } });
const START_MS = Date.UTC(2026, 9, 5);

/**
 * Spins one core for at most `limitMs` (or until terminated), in `npm run test:long` only: in
 * `npm test` the other lane of the runner already keeps the machine busy, and a third spinning
 * thread only made this file the suite's most expensive (29 s of CPU, half of it the burner).
 */
function cpuBurner(limitMs: number): { terminate(): Promise<unknown> } {
  if (!sized({ quick: false, long: true })) return { terminate: async () => undefined };
  return new Worker(`const end = Date.now() + ${limitMs}; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1);`, { eval: true });
}

async function runCase(
  dir: string,
  name: string,
  profile: Profile,
  seed: number,
  clients = 60,
  spanDays = 4,
): Promise<{ check: TruthCheck; name: string }> {
  const spanMs = spanDays * DAY_MS;
  const plans = planFleet(profile, { clients, seed, startMs: START_MS, spanMs, peakRatePerHour: 3, capMinMbps: 10, capMaxMbps: 500 });
  const engine = new ModelEngine({ profile, params: DEFAULT_NETWORK, plans, startMs: START_MS, spanMs, sizeBytes: 1 << 20, seed });
  const measurements = [...engine.advanceTo(START_MS + spanMs), ...engine.advanceTo(Infinity)];
  const random = seededRandom(seed + 9);
  const rows: StoredResult[] = measurements.map((m) => ({
    ...toResult(m, { clientName: plans[m.client]!.name, server: 'model:1', file: '1MiB', random }),
    client: plans[m.client]!.name,
    receivedAt: new Date(START_MS + spanMs).toISOString(),
    serverConcurrentTransfers: m.serverConcurrentTransfers,
    serverOutboundMbps: m.serverOutboundMbps,
  }));
  const store = new SqliteStore(join(dir, `${name}-${seed}.db`), { synchronous: 'normal' });
  try {
    await store.insertResults([rows]);
    const summary = await analyse(store);
    const verdicts = truthVerdicts(hoursOfDay(engine.hours, START_MS, HOUR_MS));
    const incidents = profile.incidents.map((i) => ({
      cause: i.cause,
      startMs: START_MS + i.startHour * HOUR_MS,
      endMs: START_MS + i.endHour * HOUR_MS,
      ...(i.cause === 'access-link' ? { client: plans[i.client - 1]!.name } : {}),
    }));
    return { name: `${name} seed ${seed}`, check: checkTruth(summary, { ...verdicts, incidents }) };
  } finally {
    await store.close();
  }
}

const describeCheck = (c: TruthCheck) => JSON.stringify({ busiest: c.busiest, congested: c.congested, incidents: c.incidents });

test(`busiest and congested hours: ${SIZE.seeds} seeds × every built-in profile and ${SIZE.custom} random custom profiles${sized({ quick: '', long: ', CPU burner beside' })}`, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-property-'));
  const burner = cpuBurner(120_000);
  t.after(async () => {
    await burner.terminate();
    await rm(dir, { recursive: true, force: true });
  });
  const draw = seededRandom(2026);
  const failures: string[] = [];
  let cases = 0;
  for (const [name, profile] of Object.entries(BUILTIN_PROFILES)) {
    for (let k = 0; k < SIZE.seeds; k++) {
      const { check, name: label } = await runCase(dir, name, profile, 1 + Math.floor(draw() * 1e6));
      cases++;
      if (!check.ok) failures.push(`${label}: ${describeCheck(check)}`);
    }
  }
  for (let k = 0; k < SIZE.custom; k++) {
    const peak = Math.floor(draw() * 24);
    const activity = bump([peak], 0.1 + 0.1 * draw(), 2 + draw());
    const profile: Profile = {
      name: `custom-peak-${peak}`,
      description: '',
      activity,
      capacity: invert(activity, 0.2 + 0.1 * draw()),
      outages: [],
      incidents: [],
    };
    const { check, name: label } = await runCase(dir, profile.name, profile, 1 + Math.floor(draw() * 1e6));
    cases++;
    assert.ok(
      check.busiest.truth.includes(peak) || check.busiest.truth.some((h) => Math.min(Math.abs(h - peak), 24 - Math.abs(h - peak)) <= 1),
      `${label}: the model's busiest hours ${check.busiest.truth} sit at the drawn peak ${peak}`,
    );
    if (!check.ok) failures.push(`${label}: ${describeCheck(check)}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases} cases`);
});

test('incidents: the analyser tells a shared-link episode, one access link and server load apart', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-causes-'));
  const burner = cpuBurner(60_000);
  t.after(async () => {
    await burner.terminate();
    await rm(dir, { recursive: true, force: true });
  });
  const flat = BUILTIN_PROFILES.flat!;
  // 1 % of the access cap: a 1 MiB download on a long path is slow-start bound, so a milder cut can
  // hide below the analyser's 50 % threshold (the model says so too: throughput barely moves).
  const incidentsOf: Record<string, Profile['incidents']> = {
    'shared-link': [{ cause: 'shared-link', startHour: 34, endHour: 40, remaining: 0.05, client: 1, extraTransfers: 200 }],
    'access-link': [{ cause: 'access-link', startHour: 58, endHour: 66, remaining: 0.01, client: 3, extraTransfers: 200 }],
    'server-load': [{ cause: 'server-load', startHour: 80, endHour: 86, remaining: 0.1, client: 1, extraTransfers: 400 }],
  };
  const failures: string[] = [];
  for (const [cause, incidents] of Object.entries(incidentsOf)) {
    for (const seed of sized({ quick: [7, 8], long: [7, 8, 9, 10, 11] })) {
      const { check, name } = await runCase(dir, cause, { ...flat, name: cause, incidents }, seed);
      assert.equal(check.incidents.length, 1);
      if (!check.incidents[0]!.ok) failures.push(`${name}: ${JSON.stringify(check.incidents[0])}`);
    }
  }
  assert.deepEqual(failures, []);
});
