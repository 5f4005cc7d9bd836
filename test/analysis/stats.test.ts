import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changePoints } from '../../src/analysis/changepoints.js';
import { binomialUpperTail, mean, percentileSelect, percentileSorted, sampleStdDev, theilSen } from '../../src/analysis/stats.js';
import { r4 } from '../../src/analysis/round.js';

describe('percentiles (numpy linear / percentile_cont)', () => {
  const sorted = Float64Array.from([10, 20, 30, 40, 50]);

  test('match numpy.percentile on hand-checked values', () => {
    // numpy.percentile([10,20,30,40,50], [0,5,10,50,90,95,100]) = 10, 12, 14, 30, 46, 48, 50
    const expected: [number, number][] = [
      [0, 10],
      [0.05, 12],
      [0.1, 14],
      [0.5, 30],
      [0.9, 46],
      [0.95, 48],
      [1, 50],
    ];
    for (const [p, value] of expected) assert.equal(r4(percentileSorted(sorted, p)!), value, `p${p * 100}`);
    assert.equal(percentileSorted(Float64Array.from([1, 2, 3, 4]), 0.5), 2.5);
    assert.equal(percentileSorted(Float64Array.from([7]), 0.95), 7);
    assert.equal(percentileSorted(new Float64Array(0), 0.5), null);
  });

  test('selection gives exactly the sorted answer, duplicates and all', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 2_000; trial++) {
      const n = 1 + Math.floor(random() * 50);
      const values = Float64Array.from({ length: n }, () => Math.floor(random() * (trial % 2 ? 5 : 1_000)));
      const p = [0, 0.05, 0.1, 0.5, 0.9, 0.95, 1, random()][trial % 8]!;
      assert.equal(percentileSelect(values.slice(), p), percentileSorted(values.slice().sort(), p));
    }
    const ascending = Float64Array.from({ length: 100_000 }, (_, i) => i);
    assert.equal(percentileSelect(ascending, 0.5), 49_999.5);
  });
});

describe('moments', () => {
  test('mean and sample standard deviation', () => {
    const values = [10, 20, 30, 40, 50];
    assert.equal(mean(values), 30);
    assert.equal(r4(sampleStdDev(values)!), 15.8114); // sqrt(1000 / 4)
    assert.equal(sampleStdDev([5]), null);
    assert.equal(mean([]), null);
  });
});

describe('Theil–Sen', () => {
  test('slope of a line, unmoved by an outlier', () => {
    const x = [0, 1, 2, 3, 4, 5, 6];
    assert.equal(
      theilSen(
        x,
        x.map((v) => 3 + 2 * v),
      ),
      2,
    );
    const y = x.map((v) => 3 + 2 * v);
    y[3] = 1_000;
    assert.equal(theilSen(x, y), 2);
    assert.equal(theilSen([1, 1], [2, 5]), null);
  });
});

describe('binomial upper tail', () => {
  test('exact small cases', () => {
    assert.equal(binomialUpperTail(0, 10), 1);
    assert.equal(binomialUpperTail(11, 10), 0);
    assert.equal(r4(binomialUpperTail(10, 10)), r4(1 / 1024));
    // P(X >= 8 | n=10) = (45 + 10 + 1) / 1024
    assert.equal(binomialUpperTail(8, 10).toFixed(10), (56 / 1024).toFixed(10));
    // P(X >= 12 | n=22): symmetric around 11 → (1 - P(X = 11)) / 2
    const p11 = 705_432 / 4_194_304;
    assert.equal(binomialUpperTail(12, 22).toFixed(10), ((1 - p11) / 2).toFixed(10));
  });

  test('large n neither overflows nor underflows to nonsense', () => {
    assert.ok(binomialUpperTail(500_500, 1_000_000) > 0.1);
    assert.ok(binomialUpperTail(510_000, 1_000_000) < 1e-50);
  });
});

describe('change points', () => {
  const rule = { minSegment: 3, minShift: 0.2, minScore: 5 };

  test('one step is found where the new level starts', () => {
    assert.deepEqual(changePoints([100, 101, 99, 100, 100, 50, 51, 49, 50, 50], rule), [5]);
  });

  test('two steps', () => {
    const y = [...Array(6).fill(100), ...Array(6).fill(40), ...Array(6).fill(100)];
    assert.deepEqual(changePoints(y, rule), [6, 12]);
  });

  test('noise, small shifts and short segments are not steps', () => {
    assert.deepEqual(changePoints([100, 104, 97, 101, 99, 103, 96, 100, 102, 98], rule), []);
    assert.deepEqual(changePoints([100, 100, 100, 100, 90, 90, 90, 90], rule), []); // 10 % < minShift
    assert.deepEqual(changePoints([100, 100, 100, 100, 50, 50, 100, 100, 100, 100], rule), []); // a 2-point dip
  });
});
