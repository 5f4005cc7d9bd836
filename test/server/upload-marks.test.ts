/**
 * The upload receiver's arrival curve (capability 'upload-marks', src/server/upload.ts): one point at
 * the first payload chunk at or after every 10 ms tick, ticks twice as far apart whenever the curve
 * would exceed MAX_ARRIVAL_MARKS points, the last point the last arrival with every byte. Pure.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_ARRIVAL_MARKS, type Put } from '../../src/protocol/messages.js';
import { ARRIVAL_MARK_STEP_MS, UploadReceiver } from '../../src/server/upload.js';

const limits = { maxUploadBytes: 1e12, maxUploadDurationMs: 600_000 };

/** A duration upload receiving `chunks` of `bytes` at the given instants (ms, performance.now() clock). */
function receive(atMs: readonly number[], bytes = 1000): UploadReceiver {
  const put: Put = { name: 'x', durationMs: 60_000 };
  const r = new UploadReceiver(put, 0, limits);
  const payload = Buffer.alloc(bytes);
  for (const t of atMs) {
    r.onChunk(t);
    r.onData(payload, t);
  }
  return r;
}

test('a point at the first chunk of every 10 ms tick, the first arrival included, the last arrival last', () => {
  const r = receive([100, 103, 109, 110, 112, 125, 131.5]);
  const result = r.finish(7000, true, true);
  assert.equal(ARRIVAL_MARK_STEP_MS, 10);
  assert.deepEqual(result.arrivalMarks, [
    [0, 1000], // 100: the first arrival
    [10, 4000], // 110: the first chunk at or after 110 (103 and 109 are inside the first tick)
    [25, 6000], // 125: no chunk in [120, 125)
    [31.5, 7000], // 131.5: in the tick that began at 130, and the last arrival
  ]);
  assert.equal(result.firstAtUnixMs! + 31.5 - result.lastAtUnixMs! < 0.002, true);
});

test('several DATA frames of one socket chunk (one instant): the point holds the bytes after all of them', () => {
  const put: Put = { name: 'x', durationMs: 60_000 };
  const r = new UploadReceiver(put, 0, limits);
  r.onChunk(50);
  r.onData(Buffer.alloc(10), 50);
  r.onData(Buffer.alloc(20), 50);
  r.onChunk(57);
  r.onData(Buffer.alloc(30), 57);
  assert.deepEqual(r.finish(60, true, true).arrivalMarks, [
    [0, 30],
    [7, 60],
  ]);
});

test("the chunks of one read of the socket (a TLS record each) are one arrival, at the read's first chunk", () => {
  const put: Put = { name: 'x', durationMs: 60_000 };
  const r = new UploadReceiver(put, 0, limits);
  // A first read of three records, 20 µs apart (a burst held back behind a lost segment), then two reads.
  for (const [atMs, sameRead] of [
    [50, false],
    [50.02, true],
    [50.04, true],
    [61, false],
    [75, false],
    [75.02, true],
  ] as const) {
    r.onChunk(atMs, sameRead);
    r.onData(Buffer.alloc(100), atMs);
  }
  const result = r.finish(600, true, true);
  assert.deepEqual(result.arrivalMarks, [
    [0, 300],
    [11, 400],
    [25, 600],
    [25.02, 600],
  ]);
  // The transfer's own times are still the first and the last chunk's.
  assert.equal(result.transferMs, 25.02);
});

test('a long upload thins its ticks: never more than MAX_ARRIVAL_MARKS points, still ending at the last arrival', () => {
  // A chunk every 2 ms for 100 s: 50,000 chunks, 10,000 ticks of 10 ms.
  const times = Array.from({ length: 50_000 }, (_, i) => 1000 + i * 2);
  const r = receive(times, 100);
  const marks = r.finish(5_000_000, true, true).arrivalMarks!;
  assert.ok(marks.length <= MAX_ARRIVAL_MARKS + 1, String(marks.length));
  assert.ok(marks.length > MAX_ARRIVAL_MARKS / 4, String(marks.length));
  assert.deepEqual(marks[0], [0, 100]);
  assert.deepEqual(marks[marks.length - 1], [99_998, 5_000_000]);
  // Evenly spaced after thinning: 10 ms ticks doubled until they fit (80 ms here).
  const gaps = new Set(marks.slice(1, -1).map((m, i) => m[0] - marks[i]![0]));
  assert.deepEqual([...gaps], [80]);
  // Every point lies on the true curve: 100 bytes per 2 ms.
  for (const [ms, bytes] of marks) assert.equal(bytes, (ms / 2 + 1) * 100);
});

test("no curve without the capability, nor without 'streams' (the times it is relative to)", () => {
  assert.equal('arrivalMarks' in receive([1, 2]).finish(2000, true, false), false);
  assert.equal('arrivalMarks' in receive([1, 2]).finish(2000, false, true), false);
});
