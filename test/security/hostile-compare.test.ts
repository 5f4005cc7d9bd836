/**
 * The rule the hostile tests judge "honest clients unaffected" by. CI failed test 1 when a
 * neighbouring test file's burst moved a 0.3 ms PING median past 10 × its own baseline (3 ms):
 * a sub-millisecond baseline cannot be multiplied alone on a shared machine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Round, SCHEDULING_FLOOR_MS, compareToBaseline } from './hostile-helpers.js';

const round = (pingMs: number): Round => ({ connectMs: 8, pingMs, downloadMs: 1, ackMs: 1.5 });

test('a few milliseconds of scheduling delay on a sub-millisecond step is not an attack', () => {
  const baseline = Array.from({ length: 8 }, () => round(0.3));
  const noisy = Array.from({ length: 8 }, () => round(4));
  assert.deepEqual(compareToBaseline(baseline, noisy, 10), []);
});

test('a step slowed past factor × the floor is reported, with its numbers', () => {
  const baseline = Array.from({ length: 8 }, () => round(0.3));
  const attacked = Array.from({ length: 8 }, () => round(10 * SCHEDULING_FLOOR_MS + 1));
  const failures = compareToBaseline(baseline, attacked, 10);
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /^pingMs: median 51\.0 ms under attack, baseline 0\.3 ms \(bound 50\.0\)$/);
});

test('a slow baseline scales the bound: 10 × an 8 ms connect is 80 ms', () => {
  const baseline = Array.from({ length: 8 }, () => round(0.3));
  assert.deepEqual(
    compareToBaseline(
      baseline,
      baseline.map((r) => ({ ...r, connectMs: 79 })),
      10,
    ),
    [],
  );
  assert.equal(
    compareToBaseline(
      baseline,
      baseline.map((r) => ({ ...r, connectMs: 81 })),
      10,
    ).length,
    1,
  );
});
