import assert from 'node:assert/strict';
import { test } from 'node:test';
import { responsivenessRpm, trimmedMeanMs } from '../../src/client/rpm.js';

test('trimmed mean drops the probes above the 95th percentile, keeps the rest', () => {
  assert.equal(trimmedMeanMs([]), null);
  assert.equal(trimmedMeanMs([40]), 40);
  // 20 probes: the slowest one (5 %) is dropped.
  const rtts = [...Array.from({ length: 19 }, () => 50), 5_000];
  assert.equal(trimmedMeanMs(rtts), 50);
  // 10 probes: ceil(9.5) = 10 kept, nothing dropped.
  assert.equal(trimmedMeanMs([...Array.from({ length: 9 }, () => 10), 110]), 20);
});

test('RPM = 60,000 / trimmed mean in ms, whole round trips per minute', () => {
  assert.equal(responsivenessRpm([]), null);
  assert.equal(responsivenessRpm([100, 100, 100]), 600);
  assert.equal(responsivenessRpm([...Array.from({ length: 19 }, () => 50), 5_000]), 1_200);
  assert.equal(responsivenessRpm([0]), 60_000_000);
});
