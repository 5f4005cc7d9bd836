import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { chooseBucketMs } from '../../src/analysis/series.js';
import { HOUR, MIN, T0, schedule, storeWith } from './helpers/dataset.js';

const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0 + ms).toISOString();

// ramp: every 10 min for a day, 100 Mbit/s rising by 0.5 Mbit/s per hour (12 per day).
// step: every 10 min for a day, 100 Mbit/s, then 50 from 12:00.
const ramp = schedule('ramp', T0, 10 * MIN, 144, (_, time) => ({ mbps: 100 + (0.5 * (time - T0)) / HOUR }));
const step = schedule('step', T0, 10 * MIN, 144, (_, time) => ({ mbps: time - T0 < 12 * HOUR ? 100 : 50 }));

describe('variation over time', () => {
  test('bucket width follows the span', () => {
    assert.equal(chooseBucketMs(0), 5 * MIN, 'no span to divide');
    assert.equal(chooseBucketMs(1_000), 5_000);
    assert.equal(chooseBucketMs(90_000), 5_000, 'a 90 s run: 18 buckets');
    assert.equal(chooseBucketMs(2 * MIN), 10_000);
    assert.equal(chooseBucketMs(20 * MIN), MIN);
    assert.equal(chooseBucketMs(50 * MIN), 5 * MIN);
    assert.equal(chooseBucketMs(2 * DAY), 5 * MIN);
    assert.equal(chooseBucketMs(2 * DAY + 1), HOUR);
    assert.equal(chooseBucketMs(16 * DAY), HOUR);
    assert.equal(chooseBucketMs(16 * DAY + 1), DAY);
  });

  test('buckets hold the median and the p10–p90 band', async (t) => {
    const s = await analyse(await storeWith(t, [...ramp, { client: 'ramp', at: T0 + 5 * MIN, failed: true }]), { bucketMs: HOUR });
    assert.equal(s.series.bucketMs, HOUR);
    const points = s.series.clients[0]!.points;
    assert.equal(points.length, 24);
    // Hour 0: 100 + m/120 for m = 0, 10, …, 50 → median at m = 25, p10 at m = 5, p90 at m = 45.
    assert.deepEqual(points[0], { start: at(0), downloads: 7, failed: 1, medianMbps: 100.208, p10Mbps: 100.042, p90Mbps: 100.375 });
    assert.deepEqual(points[23], {
      start: at(23 * HOUR),
      downloads: 6,
      failed: 0,
      medianMbps: 111.708,
      p10Mbps: 111.542,
      p90Mbps: 111.875,
    });
  });

  test('trend: Theil–Sen slope in Mbit/s per day', async (t) => {
    const s = await analyse(await storeWith(t, ramp), { bucketMs: HOUR });
    // Every pair of bucket medians rises 0.5 per hour = 12 per day; the median level is 105.958.
    assert.deepEqual(s.clients[0]!.trend, { slopeMbpsPerDay: 12, slopeFractionPerDay: 0.1133, points: 24 });
    assert.deepEqual(s.clients[0]!.changePoints, []);
  });

  test('change point: a step in the level, where it happens', async (t) => {
    const s = await analyse(await storeWith(t, step), { bucketMs: HOUR });
    assert.deepEqual(s.clients[0]!.changePoints, [{ at: at(12 * HOUR), beforeMbps: 100, afterMbps: 50, change: -0.5 }]);
    assert.deepEqual(
      s.findings.filter((f) => f.kind === 'level-change'),
      [{ kind: 'level-change', client: 'step', at: at(12 * HOUR), message: 'throughput level moved from 100 to 50 Mbit/s (-50.0%)' }],
    );
  });

  test('network line: clients relative to their own baselines', async (t) => {
    const s = await analyse(await storeWith(t, [...ramp, ...step]), { bucketMs: HOUR });
    // Baselines: ramp p90 = 100 + 128.7/12 = 110.725, step 100. Hour 0: 100.2083/110.725 = 0.90502 and 1.
    assert.deepEqual(s.series.network[0], { start: at(0), clients: 2, medianRelative: 0.9525, p10Relative: 0.9145, p90Relative: 0.9905 });
    // Hour 12: ramp 106.2083/110.725 = 0.95921, step 50/100 = 0.5.
    assert.deepEqual(s.series.network[12], {
      start: at(12 * HOUR),
      clients: 2,
      medianRelative: 0.7296,
      p10Relative: 0.5459,
      p90Relative: 0.9133,
    });
    assert.equal(s.series.network.length, 24);
  });
});
