/** The aggregate of parallel streams over their common interval (streams.ts): pure, on made-up traces. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type StreamTrace, aggregateStreams, bytesAt, cumulativeCurve, deliveryTrace } from '../../src/client/streams.js';
import { downloadStreams, downloadTraces, uploadTrace, uploadTraces } from '../../src/client/parallel.js';
import type { UploadOutcome } from '../../src/client/upload.js';
import type { PutResult } from '../../src/protocol/messages.js';
import type { DeliveryCurve } from '../../src/tcp-info.js';

/** A stream at a constant `mbps` from `fromMs` to `toMs` (whole 250 ms samples plus a partial one). */
function steady(fromMs: number, toMs: number, mbps: number): StreamTrace {
  const ms = toMs - fromMs;
  const bytes = Math.round(mbps * ms * 125);
  const samples = Array.from({ length: Math.floor(ms / 250) }, () => mbps);
  return { firstAtMs: fromMs, lastAtMs: toMs, bytes, samplesMbps: samples };
}

/**
 * A delivery curve of 1,000,000 TCP bytes: 5 segments before the recording, then 100 segments of
 * 1,000 bytes every 100 ms from `fromMs` (its first delivery at `fromMs` + 100, its last at + 1000).
 */
function steadyCurve(fromMs: number): DeliveryCurve {
  return {
    baseSegments: 5,
    segmentBytes: 1000,
    tcpBytes: 1_000_000,
    points: Array.from({ length: 11 }, (_, i): [number, number] => [fromMs + i * 100, 5 + i * 100]),
  };
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

  test('upload streams: the server’s arrival marks cut the common interval, not its 250 ms windows', () => {
    // The scenario above as two uploads timed by the server (epoch ms): a 40 Mbit/s link, A alone
    // until B's first byte 100 ms in, 20 each until A's last byte at 875 ms, then B alone. The
    // server marks each stream's bytes every 10 ms ('upload-marks'); interpolating A's 28 Mbit/s
    // first window and B's window around 875 ms instead read 42.1 Mbit/s.
    const kbit = 125; // bytes
    const t0 = 1_796_535_600_000;
    /** Marks every 10 ms along a piecewise-constant rate: [untilMs, Mbit/s] pieces from `fromMs`. */
    const marks = (fromMs: number, pieces: [number, number][]): [number, number][] => {
      const out: [number, number][] = [];
      let bytes = 0;
      let at = fromMs;
      for (const [untilMs, mbps] of pieces) {
        while (at < untilMs) {
          const next = Math.min(untilMs, Math.floor(at / 10) * 10 + 10);
          bytes += mbps * (next - at) * kbit;
          out.push([next - fromMs, bytes]);
          at = next;
        }
      }
      return out;
    };
    const outcome = (
      fromMs: number,
      toMs: number,
      bytes: number,
      samplesMbps: number[],
      arrivalMarks: [number, number][],
    ): UploadOutcome => {
      const result: PutResult = {
        bytes,
        transferMs: toMs - fromMs,
        throughputMbps: (bytes / (toMs - fromMs)) * 0.008,
        samplesMbps,
        serverLimited: false,
        firstAtUnixMs: t0 + fromMs,
        lastAtUnixMs: t0 + toMs,
        arrivalMarks,
      };
      return { result, requestedAtMs: 0, readyAtMs: 0, doneAtMs: 0, cpuMs: null } as UploadOutcome;
    };
    // A from 0: 40 Mbit/s until 100, then 20 until 875. B from 100: 20 until 875, then 40 until 1350.
    const aMarks: [number, number][] = [
      [0, 0],
      ...marks(0, [
        [100, 40],
        [875, 20],
      ]),
    ];
    const bMarks: [number, number][] = [
      [0, 0],
      ...marks(100, [
        [875, 20],
        [1350, 40],
      ]),
    ];
    const a = uploadTrace(outcome(0, 875, 19_500 * kbit, [28, 20, 20, 20], aMarks))!;
    const b = uploadTrace(outcome(100, 1350, 34_500 * kbit, [20, 20, 20, 38, 40], bMarks))!;
    assert.equal(aMarks[aMarks.length - 1]![1], 19_500 * kbit);
    assert.equal(bMarks[bMarks.length - 1]![1], 34_500 * kbit);
    const agg = aggregateStreams([a, b]);
    assert.equal(agg.intervalMs, 775);
    assert.equal(agg.throughputMbps, 40);
    assert.deepEqual(agg.streamsMbps, [20, 20]);
    // Without the marks (a server of the previous version): the windows, and the overstatement.
    const { marks: _a, ...aBare } = a;
    const { marks: _b, ...bBare } = b;
    assert.ok(aggregateStreams([aBare, bBare]).throughputMbps! > 41);
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

  test('streams that never overlap: the whole span, each stream its share of it (the shares add up to the aggregate)', () => {
    const a = aggregateStreams([steady(0, 1000, 10), steady(2000, 3000, 30)]);
    assert.equal(a.overlapped, false);
    assert.equal(a.intervalMs, 3000);
    assert.equal(a.throughputMbps, Math.round(((10 + 30) / 3) * 1000) / 1000);
    // Each stream's bytes over the 3 s span; before, each stream's own rate (10 + 30 for an aggregate of 13.3).
    assert.deepEqual(a.streamsMbps, [3.333, 10]);
    assert.ok(Math.abs(a.streamsMbps[0]! + a.streamsMbps[1]! - a.throughputMbps!) < 0.002);
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

  test('a delivery curve without an MSS: segments past the base share the stream’s bytes evenly, ends at its first and last delivery', () => {
    // 10 segments acknowledged before the transfer (handshake, PUT); 100 for the payload.
    const trace = deliveryTrace(
      {
        baseSegments: 10,
        segmentBytes: null,
        tcpBytes: 1_040_000,
        points: [
          [0, 10],
          [4, 10],
          [6, 30],
          [8, 50],
          [20, 50],
          [22, 110],
          [30, 110],
        ],
      },
      1_000_000,
    )!;
    assert.equal(trace.firstAtMs, 6);
    assert.equal(trace.lastAtMs, 22);
    assert.equal(trace.bytes, 1_000_000);
    assert.deepEqual(trace.marks, [
      [6, 200_000],
      [8, 400_000],
      [20, 400_000],
      [22, 1_000_000],
    ]);
    const curve = cumulativeCurve(trace);
    // The flat stretch stays flat: a straight line from 8 to 22 ms would read 614,286 bytes at 14 ms.
    assert.equal(bytesAt(curve, 14), 400_000);
    // What arrived by the first point is not inside an interval that starts there.
    assert.equal(bytesAt(curve, 6), 200_000);
    assert.equal(deliveryTrace({ baseSegments: 10, points: [[0, 10]], segmentBytes: 1448, tcpBytes: 0 }, 1_000_000), undefined);
  });

  test('a delivery curve counts each segment as a full MSS at the stream’s payload share; the final count is every byte', () => {
    // 100 segments carried 140,000 TCP bytes (a few short ones among 1,448-byte segments), of which
    // 137,200 payload (2 % TLS and frame overhead): a segment is 1,448 × 0.98 = 1,419.04 payload bytes.
    const points: [number, number][] = [
      [0, 0],
      [10, 1],
      [20, 50],
      [30, 98],
      [40, 100],
    ];
    const trace = deliveryTrace({ baseSegments: 0, points, segmentBytes: 1448, tcpBytes: 140_000 }, 137_200)!;
    assert.deepEqual(trace.marks, [
      [10, 1419],
      [20, 70_952],
      // 98 full segments would be 139,066 bytes: never past the stream's bytes.
      [30, 137_200],
      [40, 137_200],
    ]);
    assert.equal(trace.lastAtMs, 40);
    // Spread evenly, the middle would read 68,600: 3.4 % less over the same 10 ms.
    // More bytes than MSS-sized segments carry (an underestimated MSS): spread evenly instead.
    const coalesced = deliveryTrace({ baseSegments: 0, points, segmentBytes: 536, tcpBytes: 140_000 }, 137_200)!;
    assert.deepEqual(coalesced.marks![1], [20, 68_600]);
  });

  test('upload streams are timed by our delivery curves when every stream has one; else by the server, never a mix of clocks', () => {
    // Two streams on our clock: A delivers 100–1000 ms, B 300–1200 ms (`steadyCurve`), so 200
    // segments of 1,000 bytes per 100 ms (16 Mbit/s) while both run.
    const result = (firstAtUnixMs?: number): PutResult => ({
      bytes: 1_000_000,
      transferMs: 1000,
      throughputMbps: 8,
      samplesMbps: [8, 8, 8, 8],
      serverLimited: false,
      ...(firstAtUnixMs === undefined ? {} : { firstAtUnixMs, lastAtUnixMs: firstAtUnixMs + 1000 }),
    });
    const outcome = (delivery: UploadOutcome['delivery'], firstAtUnixMs?: number) =>
      ({ result: result(firstAtUnixMs), requestedAtMs: 0, readyAtMs: 0, doneAtMs: 0, cpuMs: null, delivery }) as UploadOutcome;
    // The first delivery is the point at 100 ms past each start (the base point holds no bytes yet).
    const ours = uploadTraces([outcome(steadyCurve(0)), outcome(steadyCurve(200))])!;
    const agg = aggregateStreams(ours);
    assert.equal(agg.intervalMs, 700);
    assert.equal(agg.throughputMbps, 16);
    // One stream without a curve (no TCP_INFO): the server's figures for all, on its clock.
    const t0 = 1_796_535_600_000;
    const theirs = uploadTraces([outcome(steadyCurve(0), t0), outcome(null, t0 + 200)])!;
    assert.deepEqual(
      theirs.map((t) => t.firstAtMs),
      [t0, t0 + 200],
    );
    // Neither for every stream: no common interval at all.
    assert.equal(uploadTraces([outcome(steadyCurve(0)), outcome(null)]), undefined);
  });

  test('download streams are timed by our receiving TCP’s curves when every stream has one; else by the arrivals the process saw', () => {
    // The kernel counted A's segments 100–1000 ms and B's 300–1200 ms (`steadyCurve`). The process got B's first bytes only at 500 ms, held behind a lost segment.
    const streams = downloadStreams(2, false);
    streams.forEach((s, i) => {
      s.progress.bytes = 1_000_000;
      s.progress.firstPayloadAtMs = i === 0 ? 150 : 500;
      s.progress.lastPayloadAtMs = i === 0 ? 1050 : 1250;
      s.arrivals = steadyCurve(i * 200);
    });
    const kernel = aggregateStreams(downloadTraces(streams));
    assert.equal(kernel.intervalMs, 700);
    assert.equal(kernel.throughputMbps, 16);
    // One stream without a curve (TCP_INFO not readable): the process's arrivals for every stream.
    streams[1]!.arrivals = null;
    assert.deepEqual(
      downloadTraces(streams).map((t) => [t.firstAtMs, t.lastAtMs]),
      [
        [150, 1050],
        [500, 1250],
      ],
    );
    assert.equal(aggregateStreams(downloadTraces(streams)).intervalMs, 550);
  });

  test('no streams: no figure', () => {
    assert.equal(aggregateStreams([]).throughputMbps, null);
  });
});
