/** The aggregate of parallel streams over their common interval (streams.ts): pure, on made-up traces. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type StreamTrace, aggregateStreams, bytesAt, cumulativeCurve } from '../../src/client/streams.js';

/** A stream at a constant `mbps` from `fromMs` to `toMs` (whole 250 ms samples plus a partial one). */
function steady(fromMs: number, toMs: number, mbps: number): StreamTrace {
  const ms = toMs - fromMs;
  const bytes = Math.round(mbps * ms * 125);
  const samples = Array.from({ length: Math.floor(ms / 250) }, () => mbps);
  return { firstAtMs: fromMs, lastAtMs: toMs, bytes, samplesMbps: samples };
}

describe('parallel streams aggregate', () => {
  test('one stream: its bytes over its own transfer time', () => {
    const a = aggregateStreams([steady(1000, 3000, 80)]);
    assert.equal(a.throughputMbps, 80);
    assert.equal(a.intervalMs, 2000);
    assert.deepEqual(a.streamsMbps, [80]);
    assert.deepEqual(a.samplesMbps, Array(8).fill(80));
  });

  test('four staggered streams: bytes in the common interval only (last first byte to first last byte)', () => {
    // Stream 2 starts 500 ms late and stream 3 ends 1 s early: outside [1500, 4000] fewer than four run.
    const traces = [steady(1000, 5000, 25), steady(1100, 5000, 25), steady(1500, 5200, 25), steady(1000, 4000, 25)];
    const a = aggregateStreams(traces);
    assert.equal(a.overlapped, true);
    assert.equal(a.intervalMs, 2500);
    assert.equal(a.throughputMbps, 100);
    assert.deepEqual(a.streamsMbps, [25, 25, 25, 25]);
    assert.deepEqual(a.samplesMbps, Array(10).fill(100));
    // Total bytes over the whole span would understate it: (3 × 4 s + 3.7 s + ... ) / 4.2 s.
    const naive = (traces.reduce((s, t) => s + t.bytes, 0) * 8) / 4200 / 1000;
    assert.ok(naive < 90, `whole-span rate ${naive} is below the aggregate`);
  });

  test('a slow start inside one stream’s first window is interpolated, not counted whole', () => {
    // Stream 1 moves 1 Mbit/s in its first 250 ms window, 40 after; the common interval starts 125 ms into that window.
    const slow: StreamTrace = { firstAtMs: 0, lastAtMs: 1000, bytes: (1 * 250 + 40 * 750) * 125, samplesMbps: [1, 40, 40, 40] };
    const late = steady(125, 1000, 40);
    const a = aggregateStreams([slow, late]);
    assert.equal(a.intervalMs, 875);
    // Slow stream: 125 ms at 1 + 750 ms at 40 = 30,125 kbit; late stream: 875 ms at 40 = 35,000 kbit.
    assert.equal(a.throughputMbps, Math.round(((30_125 + 35_000) / 875) * 1000) / 1000);
  });

  test('the interval’s ends come from the marks, not from windows in which another stream’s rate changed', () => {
    // A 40 Mbit/s link: A alone at 40 until B's first byte at 100 ms, then 20 each until A's last
    // byte at 875 ms, then B alone at 40. Over [100, 875] the aggregate is the link's 40 Mbit/s.
    // A's first window (28 Mbit/s on average) and B's window around 875 ms (20, then 40) would put
    // too few bytes before the start and too many before the end if interpolated (42.1 Mbit/s).
    const kbit = 125; // bytes
    const a: StreamTrace = {
      firstAtMs: 0,
      lastAtMs: 875,
      bytes: 19_500 * kbit,
      samplesMbps: [28, 20, 20, 20],
      marks: [
        [100, 4_000 * kbit],
        [875, 19_500 * kbit],
      ],
    };
    const b: StreamTrace = {
      firstAtMs: 100,
      lastAtMs: 1350,
      bytes: 34_500 * kbit,
      samplesMbps: [20, 20, 20, 38, 40],
      marks: [
        [100, 0],
        [875, 15_500 * kbit],
      ],
    };
    const agg = aggregateStreams([a, b]);
    assert.equal(agg.intervalMs, 775);
    assert.equal(agg.throughputMbps, 40);
    assert.deepEqual(agg.streamsMbps, [20, 20]);
  });

  test('the bytes of the interval’s first arrival are not in it (they crossed the link before it began)', () => {
    // B's first arrival at 500 ms releases 50,000 bytes the kernel held behind a lost segment.
    const a = steady(0, 2000, 20);
    const b: StreamTrace = { ...steady(500, 2500, 20), marks: [[500, 50_000]] };
    b.bytes += 50_000;
    b.samplesMbps = [20 + 50_000 / 250 / 125, ...b.samplesMbps.slice(1)];
    const agg = aggregateStreams([a, b]);
    assert.equal(agg.intervalMs, 1500);
    assert.equal(agg.throughputMbps, 40);
  });

  test('streams that never overlap: the whole span, each stream its own rate', () => {
    const a = aggregateStreams([steady(0, 1000, 10), steady(2000, 3000, 30)]);
    assert.equal(a.overlapped, false);
    assert.equal(a.intervalMs, 3000);
    assert.equal(a.throughputMbps, Math.round(((10 + 30) / 3) * 1000) / 1000);
    assert.deepEqual(a.streamsMbps, [10, 30]);
  });

  test('the curve ends at the stream’s bytes even when the samples left the partial last window out', () => {
    const t: StreamTrace = { firstAtMs: 0, lastAtMs: 600, bytes: 600 * 125 * 8, samplesMbps: [8, 8] };
    const curve = cumulativeCurve(t);
    assert.deepEqual(curve, [
      [0, 0],
      [250, 250_000],
      [500, 500_000],
      [600, 600_000],
    ]);
    assert.equal(bytesAt(curve, 550), 550_000);
    assert.equal(bytesAt(curve, -5), 0);
    assert.equal(bytesAt(curve, 700), 600_000);
  });

  test('no streams: no figure', () => {
    assert.equal(aggregateStreams([]).throughputMbps, null);
  });
});
