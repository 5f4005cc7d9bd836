import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RunInfo, Scheduler, type ScheduleSpec, createPlan } from '../../src/client/schedule.js';
import { FakeTimers, seededRandom } from './helpers/fake-timers.js';

/** Fires timers one at a time until the scheduler's loop ends. */
async function drive(timers: FakeTimers, done: Promise<unknown>): Promise<void> {
  let finished = false;
  void done.then(() => (finished = true));
  for (;;) {
    await Promise.race([timers.whenTimerSet(), done]);
    if (finished) return;
    timers.fireNext();
  }
}

function scheduled(spec: ScheduleSpec, count: number, random = seededRandom(1)) {
  const timers = new FakeTimers();
  const start = timers.now();
  const runs: (RunInfo & { startedAtMs: number })[] = [];
  const scheduler = new Scheduler(createPlan(spec, start, random), async (run) => void runs.push({ ...run, startedAtMs: timers.now() }), {
    timers,
    count,
  });
  return { timers, start, runs, scheduler };
}

describe('schedule', () => {
  test('interval with jitter: each run in [slot, slot + jitter × interval), on time, spread out', async () => {
    const { timers, start, runs, scheduler } = scheduled({ kind: 'interval', intervalMs: 60_000, jitter: 0.2 }, 200);
    await drive(timers, scheduler.run());
    assert.equal(runs.length, 200);
    const offsets = runs.map((r, k) => r.scheduledAtMs - (start + k * 60_000));
    for (const offset of offsets) assert.ok(offset >= 0 && offset < 12_000, `offset ${offset}`);
    assert.ok(Math.max(...offsets) > 10_000 && Math.min(...offsets) < 2_000, 'the jitter uses its whole range');
    for (const r of runs) assert.equal(r.startedAtMs, r.scheduledAtMs, 'started at its fire time');
    assert.equal(scheduler.stats.skipped, 0);
  });

  test('jitter 0 is a fixed grid starting now', () => {
    const plan = createPlan({ kind: 'interval', intervalMs: 1000, jitter: 0 }, 5000);
    assert.deepEqual([plan.next(), plan.next(), plan.next()], [5000, 6000, 7000]);
  });

  test('poisson: exponential gaps whose mean is close to the requested mean (seeded)', () => {
    const meanMs = 300_000;
    const plan = createPlan({ kind: 'poisson', meanMs }, 0, seededRandom(42));
    const gaps: number[] = [];
    let previous = 0;
    for (let i = 0; i < 20_000; i++) {
      const at = plan.next();
      gaps.push(at - previous);
      previous = at;
    }
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    assert.ok(Math.abs(mean - meanMs) / meanMs < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(sd / mean - 1) < 0.05, `coefficient of variation ${sd / mean} (exponential: 1)`);
    assert.ok(gaps.every((g) => g >= 0));
  });

  test('cron: fire times from croner, in the given time zone', () => {
    const start = Date.parse('2025-03-01T10:02:30Z');
    const plan = createPlan({ kind: 'cron', expression: '*/5 * * * *', timezone: 'UTC' }, start);
    assert.deepEqual(
      [plan.next(), plan.next(), plan.next()].map((t) => new Date(t).toISOString()),
      ['2025-03-01T10:05:00.000Z', '2025-03-01T10:10:00.000Z', '2025-03-01T10:15:00.000Z'],
    );
    assert.throws(() => createPlan({ kind: 'cron', expression: 'every tuesday' }, start), { code: 'NETPROBE_USAGE' });
  });

  test('bad intervals and jitter are usage errors', () => {
    assert.throws(() => createPlan({ kind: 'interval', intervalMs: 0, jitter: 0 }, 0), { code: 'NETPROBE_USAGE' });
    assert.throws(() => createPlan({ kind: 'interval', intervalMs: 1000, jitter: 1.5 }, 0), { code: 'NETPROBE_USAGE' });
    assert.throws(() => createPlan({ kind: 'poisson', meanMs: -1 }, 0), { code: 'NETPROBE_USAGE' });
  });

  test('never two runs at once: no timer is armed while a run is busy; missed fire times are skipped, not piled up', async () => {
    const timers = new FakeTimers();
    const start = timers.now();
    const runs: RunInfo[] = [];
    let running = 0;
    let finishRun: (() => void) | undefined;
    const runStarted: (() => void)[] = [];
    const skipped: number[] = [];
    const scheduler = new Scheduler(
      createPlan({ kind: 'interval', intervalMs: 1000, jitter: 0 }, start),
      async (run) => {
        running++;
        assert.equal(running, 1);
        runs.push(run);
        runStarted.shift()?.();
        await new Promise<void>((resolve) => (finishRun = resolve));
        running--;
      },
      { timers, count: 3, onSkip: (at) => skipped.push(at - start) },
    );
    const started = () => new Promise<void>((resolve) => runStarted.push(resolve));

    let next = started();
    const done = scheduler.run();
    await next; // run 0 at start (no wait: its slot is now)
    assert.equal(timers.pending, 0, 'nothing armed while busy');
    timers.advance(3_500); // the run takes 3.5 intervals
    next = started();
    finishRun!();
    await timers.whenTimerSet();
    assert.deepEqual(skipped, [1000, 2000, 3000]);
    assert.equal(scheduler.nextAtMs, start + 4000);
    timers.fireNext();
    await next;
    assert.equal(timers.pending, 0);
    next = started();
    finishRun!(); // quick run: the next slot is simply waited for
    await timers.whenTimerSet();
    timers.fireNext();
    await next;
    finishRun!();
    const stats = await done;
    assert.deepEqual(
      runs.map((r) => r.scheduledAtMs - start),
      [0, 4000, 5000],
    );
    assert.deepEqual(stats, { runs: 3, skipped: 3 });
    assert.equal(timers.pending, 0, 'count reached: nothing left armed');
  });

  test('count is honoured exactly', async () => {
    const { timers, runs, scheduler } = scheduled({ kind: 'poisson', meanMs: 1000 }, 7);
    const stats = await Promise.all([drive(timers, scheduler.run()), scheduler.run()]).then(([, s]) => s);
    assert.equal(runs.length, 7);
    assert.equal(stats.runs, 7);
    assert.equal(timers.pending, 0);
  });

  test('stop() while waiting ends the loop at once and clears the timer', async () => {
    const { timers, runs, scheduler } = scheduled({ kind: 'cron', expression: '0 0 1 1 *' }, 10);
    const done = scheduler.run();
    await timers.whenTimerSet();
    const stats = await scheduler.stop();
    assert.deepEqual(stats, { runs: 0, skipped: 0 });
    assert.equal(runs.length, 0);
    assert.equal(timers.pending, 0);
    await done;
  });

  test('stop() during a run lets it finish and starts no other', async () => {
    const timers = new FakeTimers();
    let finishRun: (() => void) | undefined;
    let began: (() => void) | undefined;
    const begun = new Promise<void>((resolve) => (began = resolve));
    let finished = false;
    const scheduler = new Scheduler(
      createPlan({ kind: 'interval', intervalMs: 1000, jitter: 0 }, timers.now()),
      async () => {
        began!();
        await new Promise<void>((resolve) => (finishRun = resolve));
        finished = true;
      },
      { timers },
    );
    void scheduler.run();
    await begun;
    const stopping = scheduler.stop();
    finishRun!();
    const stats = await stopping;
    assert.equal(finished, true);
    assert.deepEqual(stats, { runs: 1, skipped: 0 });
    assert.equal(timers.pending, 0);
  });

  test('a run that throws is reported and the schedule goes on', async () => {
    const timers = new FakeTimers();
    const errors: string[] = [];
    let calls = 0;
    const scheduler = new Scheduler(
      createPlan({ kind: 'interval', intervalMs: 1000, jitter: 0 }, timers.now()),
      async () => {
        if (calls++ === 0) throw new Error('boom');
      },
      { timers, count: 2, onError: (err) => errors.push((err as Error).message) },
    );
    await drive(timers, scheduler.run());
    assert.deepEqual(errors, ['boom']);
    assert.equal(calls, 2);
  });
});
