import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DAY_MS, HOUR_MS } from '../../src/sim/clock.js';
import { ModelEngine } from '../../src/sim/model/engine.js';
import { samplesFrom } from '../../src/sim/model/measurement.js';
import { DEFAULT_NETWORK, type NetworkParams, queueDelayMs, slowStart } from '../../src/sim/model/network.js';
import { toResult } from '../../src/sim/model/result.js';
import { maxMinShare } from '../../src/sim/model/share.js';
import { hoursOfDay, truthVerdicts } from '../../src/sim/model/truth.js';
import type { VirtualClientPlan } from '../../src/sim/plan.js';
import { BUILTIN_PROFILES, type Profile } from '../../src/sim/profile.js';
import { seededRandom } from '../../src/sim/random.js';
import { resultSchema } from '../../src/protocol/result.js';

const close = (a: number, b: number, tolerance = 1e-6) =>
  assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('max-min: n equal flows on one link get C/n each', () => {
  const s = maxMinShare(
    [{ capacityMbps: 90 }],
    [0, 1, 2].map(() => ({ path: [0], count: 1, capMbps: Infinity })),
  );
  for (const r of s.rateMbps) close(r, 30);
  assert.equal(s.saturated[0], 1);
});

test('max-min: a capped flow frees capacity for the others; a class of many flows counts each', () => {
  const s = maxMinShare(
    [{ capacityMbps: 100 }],
    [
      { path: [0], count: 1, capMbps: 10 },
      { path: [0], count: 1, capMbps: Infinity },
      { path: [0], count: 3, capMbps: Infinity },
    ],
  );
  close(s.rateMbps[0]!, 10);
  close(s.rateMbps[1]!, 22.5);
  close(s.rateMbps[2]!, 22.5);
  assert.equal(s.bottleneck[0], -1);
  assert.equal(s.bottleneck[1], 0);
  close(s.loadMbps[0]!, 100);
});

test('max-min: a flow over two links is held by the tighter one; the other link shares the rest', () => {
  // Link 0: 100, link 1: 30. Flow A crosses both, B only link 0, C only link 1.
  const s = maxMinShare(
    [{ capacityMbps: 100 }, { capacityMbps: 30 }],
    [
      { path: [0, 1], count: 1, capMbps: Infinity },
      { path: [0], count: 1, capMbps: Infinity },
      { path: [1], count: 1, capMbps: Infinity },
    ],
  );
  close(s.rateMbps[0]!, 15);
  close(s.rateMbps[2]!, 15);
  close(s.rateMbps[1]!, 85);
});

const plan = (capMbps: number, at: number[], baseRttMs = 10): VirtualClientPlan => ({
  name: 'sim-1',
  capMbps,
  baseRttMs,
  measurementsAtMs: at,
});
const quiet: Profile = { ...BUILTIN_PROFILES.flat!, background: Array<number>(24).fill(0) };
// No slow start, no setup cost: the transfer is pure fluid, so times can be computed by hand.
const bare: NetworkParams = { ...DEFAULT_NETWORK, initialWindowBytes: 1, serverHandshakeMs: 0 };

test('a lone flow on an idle network runs at its access cap (setup and slow start on top)', () => {
  const start = Date.UTC(2026, 0, 1);
  const e = new ModelEngine({
    profile: quiet,
    params: DEFAULT_NETWORK,
    plans: [plan(80, [start + 1_000], 20)],
    startMs: start,
    spanMs: HOUR_MS,
    sizeBytes: 10_000_000,
    seed: 1,
  });
  const [m] = e.advanceTo(start + HOUR_MS);
  assert.ok(m && m.error === null);
  // 10 MB at 80 Mbit/s = 1000 ms of fluid; slow start to an 80 Mbit/s × 20 ms window (200 kB) takes
  // 4 rounds of 20 ms (IW 14.6 kB doubling), sending 219 kB meanwhile.
  const ss = slowStart(80, 20, 14_600);
  assert.deepEqual(ss, { rounds: 4, bytes: 14_600 * 15 });
  close(m.transferMs!, 4 * 20 + ((10_000_000 - 219_000) * 8) / 80_000, 0.02);
  // Its own access link is the bottleneck: the loaded RTT carries the access buffer.
  close(m.loadedRttMs!, 20 + DEFAULT_NETWORK.accessBufferMs, 0.1);
  close(m.idleRttMs!, 20, 0.06);
});

test('a capacity step mid-flow changes the finish time exactly as computed by hand', () => {
  const start = Date.UTC(2026, 0, 1);
  // Shared link 100 Mbit/s until 01:00, then 20 %: 20 Mbit/s. One client with a 1 Gbit/s cap.
  const capacity = Array<number>(24).fill(1);
  capacity[1] = 0.2;
  const profile: Profile = { ...quiet, capacity };
  const params = { ...bare, sharedMbps: 100, serverMbps: 1_000 };
  const e = new ModelEngine({
    profile,
    params,
    plans: [plan(1_000, [start + HOUR_MS - 10_000], 0.001)],
    startMs: start,
    spanMs: 2 * HOUR_MS,
    sizeBytes: 250_000_000,
    seed: 1,
  });
  const [m] = e.advanceTo(start + 2 * HOUR_MS);
  assert.ok(m && m.error === null);
  // Its first byte arrives ~at the start; 10 s at 100 Mbit/s = 125 MB, the other 125 MB at 20 Mbit/s = 50 s.
  close(m.transferMs!, 60_000, 0.001);
  // The 250 ms samples follow the step.
  assert.ok(m.samplesMbps[0]! > 99 && m.samplesMbps[0]! <= 100);
  assert.ok(m.samplesMbps.at(-1)! > 19 && m.samplesMbps.at(-1)! <= 20.01);
});

test('two flows that overlap share the link, then the survivor speeds up', () => {
  const start = Date.UTC(2026, 0, 1);
  const params = { ...bare, sharedMbps: 100, serverMbps: 1_000 };
  const plans = [
    { ...plan(1_000, [start], 0.001), name: 'sim-1' },
    { ...plan(1_000, [start], 0.001), name: 'sim-2' },
  ];
  const e = new ModelEngine({ profile: quiet, params, plans, startMs: start, spanMs: HOUR_MS, sizeBytes: 12_500_000, seed: 1 });
  const ms = e.advanceTo(start + HOUR_MS);
  assert.equal(ms.length, 2);
  // Both at 50 Mbit/s: 12.5 MB takes 2 s.
  for (const m of ms) close(m.transferMs!, 2_000, 0.001);
  assert.equal(ms[0]!.serverConcurrentTransfers! + ms[1]!.serverConcurrentTransfers!, 1);
});

test('queueing: a full link adds its buffer, an idle one almost nothing', () => {
  assert.equal(queueDelayMs(true, 100, 100, 60), 60);
  assert.ok(queueDelayMs(false, 10, 100, 60) < 0.02);
  assert.ok(queueDelayMs(false, 99, 100, 60) > queueDelayMs(false, 90, 100, 60));
});

test('samples: whole 250 ms windows of a piecewise-constant rate', () => {
  assert.deepEqual(samplesFrom([0, 8, 500, 16], 0, 1_000), [8, 8, 16, 16]);
  assert.deepEqual(samplesFrom([0, 8, 375, 16], 0, 760), [8, 12, 16]);
});

test("an outage fails measurements with the client's error codes; every planned measurement is made once", () => {
  const start = Date.UTC(2026, 0, 1);
  const profile: Profile = { ...BUILTIN_PROFILES['evening-peak']!, outages: [{ startHour: 2, endHour: 3 }] };
  const plans = Array.from({ length: 50 }, (_, i) => ({
    ...plan(50, [], 20),
    name: `sim-${i + 1}`,
    measurementsAtMs: Array.from({ length: 48 }, (_, k) => start + k * 30 * 60_000 + i * 1_000),
  }));
  const e = new ModelEngine({ profile, params: DEFAULT_NETWORK, plans, startMs: start, spanMs: DAY_MS, sizeBytes: 1 << 20, seed: 3 });
  const ms = [...e.advanceTo(start + DAY_MS), ...e.advanceTo(Infinity)];
  assert.equal(ms.length, e.planned);
  assert.equal(e.made, e.planned);
  const inOutage = ms.filter((m) => m.startedAtMs >= start + 2 * HOUR_MS && m.startedAtMs < start + 3 * HOUR_MS);
  assert.equal(inOutage.length, 100);
  assert.ok(inOutage.every((m) => m.error?.code === 'NETPROBE_CONNECT_REFUSED'));
  const random = seededRandom(1);
  for (const m of ms) resultSchema.parse(toResult(m, { clientName: plans[m.client]!.name, server: '127.0.0.1:1', file: '1MiB', random }));
});

test('truth: evening-peak congests the shared link around 20:00 and the busiest hour is 20:00', () => {
  const start = Date.UTC(2026, 0, 1);
  const plans = Array.from({ length: 300 }, (_, i) => ({
    ...plan(10 + (i % 50) * 10, [], 20),
    name: `sim-${i + 1}`,
    measurementsAtMs: Array.from({ length: 24 }, (_, h) => start + h * HOUR_MS + i * 7_000).filter(
      (t) => BUILTIN_PROFILES['evening-peak']!.activity[new Date(t).getUTCHours()]! > 0.5 || t % 3 === 0,
    ),
  }));
  const e = new ModelEngine({
    profile: BUILTIN_PROFILES['evening-peak']!,
    params: DEFAULT_NETWORK,
    plans,
    startMs: start,
    spanMs: DAY_MS,
    sizeBytes: 1 << 20,
    seed: 3,
  });
  e.advanceTo(Infinity);
  const hours = hoursOfDay(e.hours, start, HOUR_MS);
  const v = truthVerdicts(hours);
  assert.ok(v.congestedHours.includes(20) && !v.congestedHours.includes(8), v.congestedHours.join(','));
  assert.equal(hours[20]!.utilisation, 1);
  assert.ok(hours[8]!.utilisation < 0.5);
  assert.ok(hours[20]!.bottlenecks.shared > hours[20]!.bottlenecks.access);
});
