import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { uuidv7, uuidv7TimeMs } from '../../src/client/uuid.js';

test('UUIDv7: 48-bit ms timestamp, version 7, variant 10, random rest', () => {
  const now = Date.parse('2025-06-01T12:34:56.789Z');
  const id = uuidv7(now);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uuidv7TimeMs(id), now);
  assert.equal(id.slice(0, 13).replace('-', ''), now.toString(16).padStart(12, '0'));
  assert.ok(z.uuid().safeParse(id).success, 'accepted by the Result schema');
  assert.notEqual(uuidv7(now), uuidv7(now), 'random bits differ');
});

test('UUIDv7: fixed random bytes give a known id; ids sort by time', () => {
  const zeros = (b: Uint8Array) => b.fill(0);
  const ones = (b: Uint8Array) => b.fill(0xff);
  assert.equal(uuidv7(0, zeros), '00000000-0000-7000-8000-000000000000');
  assert.equal(uuidv7(0xffff_ffff_ffff, ones), 'ffffffff-ffff-7fff-bfff-ffffffffffff');
  const ids = [5, 1, 3_000_000_000_000, 2].map((t) => uuidv7(t));
  assert.deepEqual([...ids].sort().map(uuidv7TimeMs), [1, 2, 5, 3_000_000_000_000]);
});

test('UUIDv7: a timestamp outside 48 bits is refused', () => {
  assert.throws(() => uuidv7(-1), RangeError);
  assert.throws(() => uuidv7(2 ** 48), RangeError);
  assert.throws(() => uuidv7(1.5), RangeError);
});
