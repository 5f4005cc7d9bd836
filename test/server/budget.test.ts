import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBuckets } from '../../src/server/budget.js';

test('token buckets: a full minute of burst, then refill at the rate; refusals take nothing and say how long to wait', () => {
  let nowMs = 0;
  const b = new TokenBuckets({ resultsPerMinute: 3000, reportBytesPerMinute: 60_000 }, () => nowMs);
  for (let i = 0; i < 3; i++) assert.equal(b.take('mallory', { results: 1000 }), 0);
  // Empty: 1,000 results need 20 s at 3,000 a minute.
  assert.equal(b.take('mallory', { results: 1000 }), 20_000);
  assert.equal(b.take('honest', { results: 1000 }), 0, 'another client has its own bucket');
  nowMs = 10_000;
  assert.equal(b.take('mallory', { results: 1000 }), 10_000, 'half refilled; the refusal took nothing');
  nowMs = 20_000;
  assert.equal(b.take('mallory', { results: 1000 }), 0);
  // Bytes: its own bucket; a cost above the burst waits for a full bucket instead of never.
  assert.equal(b.take('bytes', { reportBytes: 1_000_000 }), 0);
  assert.equal(b.take('bytes', { reportBytes: 1 }), 1);
  nowMs += 60_000;
  assert.equal(b.take('bytes', { reportBytes: 30_000, results: 10 }), 0);
});

test('token buckets: clients quiet for two minutes are forgotten (their bucket would be full)', () => {
  let nowMs = 0;
  const b = new TokenBuckets({ resultsPerMinute: 10, reportBytesPerMinute: 1024 }, () => nowMs);
  for (let i = 0; i < 100; i++) b.take(`client-${i}`, { results: 1 });
  assert.equal(b.size, 100);
  nowMs = 120_000;
  b.take('last', { results: 1 });
  assert.equal(b.size, 1);
});
