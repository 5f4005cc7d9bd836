import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ActiveSpan, activeCounter } from '../../src/analysis/network.js';

test('activeCounter counts the spans touching an interval, as the one-by-one filter does (ends included)', () => {
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const spans: ActiveSpan[] = Array.from({ length: 300 }, (_, i) => {
    const fromMs = Math.floor(random() * 1000);
    return { client: `c${i}`, fromMs, toMs: fromMs + Math.floor(random() * 200) };
  });
  const count = activeCounter(spans);
  for (let k = 0; k < 2000; k++) {
    const startMs = Math.floor(random() * 1200) - 100;
    const endMs = startMs + Math.floor(random() * 100);
    const expected = spans.filter((a) => a.fromMs <= endMs && a.toMs >= startMs).length;
    assert.equal(count(startMs, endMs), expected, `[${startMs}, ${endMs}]`);
  }
  assert.equal(activeCounter([])(0, 10), 0);
});
