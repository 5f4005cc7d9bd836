import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Result } from '../../src/protocol/result.js';
import { MemoryQueue } from '../../src/sim/lanes.js';

const result = (id: string): Result => ({ id }) as unknown as Result;

test("a lane's MemoryQueue keeps the outbox's contract: oldest first, a duplicate id once, ACKed ids dropped, all-or-nothing when full", () => {
  const q = new MemoryQueue(4);
  q.addMany([result('a'), result('b'), result('a')]);
  assert.equal(q.count(), 2);
  q.addMany([result('c')]);
  assert.deepEqual(
    q.peek(2).map((r) => r.id),
    ['a', 'b'],
  );
  assert.equal(q.delete(['b', 'zz']), 1);
  assert.deepEqual(
    q.peek(10).map((r) => r.id),
    ['a', 'c'],
  );
  assert.throws(
    () => q.addMany([result('d'), result('e'), result('f')]),
    (err: Error & { code?: string }) => err.code === 'NETPROBE_LIMIT',
  );
  assert.equal(q.count(), 2, 'nothing of a refused batch is queued');
});
