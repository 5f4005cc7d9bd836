import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateRpm, responsiveness, rpmOfProbes, trimmedMeanMs } from '../../src/analysis/responsiveness.js';

const repeat = (n: number, v: number): number[] => Array.from({ length: n }, () => v);

test('trimmed mean drops the probes above the 95th percentile, keeps the rest', () => {
  assert.equal(trimmedMeanMs([]), null);
  assert.equal(trimmedMeanMs([40]), 40);
  // 20 probes: ⌈19⌉ kept, the slowest one (5 %) dropped.
  assert.equal(trimmedMeanMs([...repeat(19, 50), 5_000]), 50);
  // 10 probes: ⌈9.5⌉ = 10 kept, nothing dropped: (9 × 10 + 110) / 10 = 20.
  assert.equal(trimmedMeanMs([...repeat(9, 10), 110]), 20);
  // 40 probes in any order: 38 kept. Values 1..40 → mean of 1..38 = 19.5.
  const shuffled = Array.from({ length: 40 }, (_, i) => ((i * 17) % 40) + 1);
  assert.equal(trimmedMeanMs(shuffled), 19.5);
  // The probes themselves are not reordered.
  assert.equal(shuffled[0], 1);
  assert.equal(shuffled[1], 18);
});

test('RPM of probes = 60,000 / trimmed mean in ms', () => {
  assert.equal(rpmOfProbes([]), null);
  assert.equal(rpmOfProbes([100, 100, 100]), 600);
  assert.equal(rpmOfProbes([...repeat(19, 50), 5_000]), 1_200);
  // A zero round trip is a clock artefact: capped at 1 µs.
  assert.equal(rpmOfProbes([0]), 60_000_000);
});

test('a result: foreign and self RPM averaged, as the draft; either alone when the other is missing', () => {
  // Foreign TM 40 ms → 1,500; self TM 120 ms → 500; (1,500 + 500) / 2 = 1,000.
  assert.deepEqual(responsiveness(repeat(20, 40), repeat(10, 120)), {
    rpm: 1_000,
    foreignRpm: 1_500,
    selfRpm: 500,
    foreignProbes: 20,
    selfProbes: 10,
  });
  // Not the RPM of the pooled round trips: 60,000 / ((20·40 + 10·120) / 30) = 900.
  assert.notEqual(responsiveness(repeat(20, 40), repeat(10, 120)).rpm, 900);
  // Whole round trips per minute: 60,000 / 70 = 857.14 → 857; with self 60,000 / 90 = 666.67 → (857.14 + 666.67) / 2 = 761.9 → 762.
  assert.deepEqual(responsiveness([70]), { rpm: 857, foreignRpm: 857, selfRpm: null, foreignProbes: 1, selfProbes: 0 });
  assert.equal(responsiveness([70], [90]).rpm, 762);
  assert.deepEqual(responsiveness([], [60]), { rpm: 1_000, foreignRpm: null, selfRpm: 1_000, foreignProbes: 0, selfProbes: 1 });
  assert.deepEqual(responsiveness([]), { rpm: null, foreignRpm: null, selfRpm: null, foreignProbes: 0, selfProbes: 0 });
});

test('several results: the harmonic mean of their RPM, not the arithmetic mean', () => {
  // RPM 4,800 (12.5 ms) and 1,200 (50 ms): mean round trip 31.25 ms → 1,920 RPM (the arithmetic mean would say 3,000).
  assert.equal(aggregateRpm(2, 1 / 4_800 + 1 / 1_200), 1_920);
  assert.equal(aggregateRpm(1, 1 / 600), 600);
  assert.equal(aggregateRpm(0, 0), null);
});
