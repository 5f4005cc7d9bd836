import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { HOUR, MIN, T0, schedule, storeWith } from './helpers/dataset.js';

const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();

describe('gaps and silence', () => {
  // gappy: every 5 min for 2 h but nothing between 30 and 60; quiet: stops after 60 min;
  // steady: every 5 min for 2 h.
  const gappy = schedule('gappy', T0, 5 * MIN, 25).filter((m) => {
    const minute = ((m.at as number) - T0) / MIN;
    return minute <= 30 || minute >= 60;
  });
  const quiet = schedule('quiet', T0, 5 * MIN, 13);
  const steady = schedule('steady', T0, 5 * MIN, 25);

  test('the expected interval is the median spacing; gaps, what they swallowed, silence at the end', async (t) => {
    const s = await analyse(await storeWith(t, [...gappy, ...quiet, ...steady]));
    const schedules = Object.fromEntries(s.clients.map((c) => [c.client, c.schedule]));
    assert.deepEqual(schedules.gappy, {
      expectedIntervalMs: 5 * MIN,
      gaps: 1,
      longestGapMs: 30 * MIN,
      missedEstimate: 5,
      silent: false,
      silentForMs: 0,
    });
    assert.deepEqual(schedules.quiet, {
      expectedIntervalMs: 5 * MIN,
      gaps: 0,
      longestGapMs: null,
      missedEstimate: 0,
      silent: true,
      silentForMs: 60 * MIN,
    });
    assert.equal(schedules.steady!.silent, false);
    assert.equal(s.window.end, at(120));
    assert.deepEqual(s.findings, [
      { kind: 'gaps', client: 'gappy', at: null, message: '1 gap(s) in the schedule, longest 30m, about 5 result(s) missing' },
      { kind: 'silent', client: 'quiet', at: at(60), message: 'silent for 1h at the window end (expected every 5m)' },
    ]);
  });

  test('--until sets the end silence is measured to', async (t) => {
    const s = await analyse(await storeWith(t, steady), { untilMs: T0 + 3 * HOUR });
    assert.deepEqual([s.clients[0]!.schedule.silent, s.clients[0]!.schedule.silentForMs], [true, 60 * MIN]);
    assert.equal(s.window.end, at(180));
  });

  test('a gap is a spacing above gapFactor × interval', async (t) => {
    const store = await storeWith(t, gappy);
    assert.equal((await analyse(store, { thresholds: { gapFactor: 5.9 } })).clients[0]!.schedule.gaps, 1);
    assert.equal((await analyse(store, { thresholds: { gapFactor: 6 } })).clients[0]!.schedule.gaps, 0); // 30 min = 6 × 5 min
  });

  test('clients with no result in the window are findings, not absences', async (t) => {
    const store = await storeWith(t, [...schedule('gone', T0 - 2 * HOUR, 5 * MIN, 6), ...steady]);
    const s = await analyse(store, { sinceMs: T0, clients: ['gone', 'steady', 'never'] });
    assert.deepEqual(
      s.clients.map((c) => c.client),
      ['steady'],
    );
    assert.deepEqual(s.findings, [
      {
        kind: 'absent',
        client: 'gone',
        at: new Date(T0 - 2 * HOUR + 25 * MIN).toISOString(),
        message: `no results in the window; last seen ${new Date(T0 - 2 * HOUR + 25 * MIN).toISOString()}`,
      },
      { kind: 'absent', client: 'never', at: null, message: 'no results in the window' },
    ]);
    const all = await analyse(store, { sinceMs: T0 });
    assert.deepEqual(
      all.findings.map((f) => [f.kind, f.client]),
      [['absent', 'gone']],
    );
  });
});
