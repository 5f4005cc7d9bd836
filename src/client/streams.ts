/**
 * Parallel streams (--streams N): one measurement over N connections. The aggregate throughput is
 * the bytes all streams moved during their common interval, from the last stream's first payload
 * byte to the first stream's last payload byte (iperf3 -P and ndt practice): outside it fewer than
 * N streams run (one still in slow start, or the others already done), so counting it would blend
 * a partly loaded link into the figure. The interval's bytes are those that arrived after its
 * start and up to its end: a stream's first arrival is often a burst the kernel held back behind a
 * lost segment (bytes that crossed the link before the interval began). Each stream's bytes at the
 * two ends come from marks taken when they happened, not from its 250 ms windows: the other streams'
 * rates change at exactly those instants, so interpolating inside a window would overstate the
 * aggregate at both ends (by 3–5 % at 10 Mbit/s, where a stream waits out a retransmission timeout
 * before its first byte). With several streams a stream's curve is its kernel's delivery curve
 * (`deliveryTrace`: the client's TCP counts the segments, as receiver of a download and as sender
 * of an upload), or where TCP_INFO cannot be read the receiving process's arrivals; the same rule
 * on either. Pure.
 */
import { SAMPLE_INTERVAL_MS } from '../protocol/result.js';
import type { DeliveryCurve } from '../tcp-info.js';
import { mbps, round3 } from './meter.js';

/**
 * What one stream moved, on a clock shared by all streams of the measurement: its first and last
 * payload arrival (ms), its payload bytes, and its 250 ms samples from `firstAtMs` (as the meter
 * makes them: the last window partial or left out). The samples shape the stream's cumulative byte
 * curve; `bytes` pins its end.
 */
export interface StreamTrace {
  firstAtMs: number;
  lastAtMs: number;
  bytes: number;
  samplesMbps: readonly number[];
  /**
   * The stream's cumulative payload bytes just after the arrivals at given instants (ms, the same
   * clock): the client marks every stream when any stream's first or last payload arrives, so the
   * common interval's ends are exact. A mark at `firstAtMs` holds the first arrival's bytes.
   */
  marks?: readonly (readonly [atMs: number, bytes: number])[];
}

export interface StreamsAggregate {
  /** Aggregate over the common interval (or over the whole span when the streams never overlapped). */
  throughputMbps: number | null;
  /** Length of the interval behind throughputMbps, ms. */
  intervalMs: number;
  /** The streams overlapped: throughputMbps is over their common interval. */
  overlapped: boolean;
  /** Each stream's share of throughputMbps (its bytes in the same interval); they sum to it (to rounding). */
  streamsMbps: number[];
  /** Aggregate 250 ms windows over the interval (a final partial window shorter than half is left out). */
  samplesMbps: number[];
}

/**
 * A stream's trace from a delivery curve (src/tcp-info.ts: its sender's acknowledged segments, or
 * its receiver's arrived segments), `bytes` the payload it carried: its first delivery (the first
 * point past the base), its last (the first point at the final count), and every point between as a
 * mark. A segment counts as a full one, the MSS, scaled to payload bytes by the stream's payload
 * share of its TCP bytes (the TLS and frame overhead): segments are full while the link is the
 * bottleneck, and the few short ones (the first request's, the tail) would otherwise shrink every
 * segment's share. Where the MSS is unknown, or the count holds more bytes than MSS-sized segments
 * could carry (a coalesced count, an MSS the receiver underestimates), each segment carries the
 * stream's bytes spread evenly. Marks never pass `bytes`, and the final point reaches it. Undefined
 * when the curve shows no delivery.
 */
export function deliveryTrace(curve: DeliveryCurve, bytes: number): StreamTrace | undefined {
  const points = curve.points;
  const finalSegments = points[points.length - 1]?.[1] ?? curve.baseSegments;
  const segments = finalSegments - curve.baseSegments;
  const first = points.findIndex(([, n]) => n > curve.baseSegments);
  if (segments <= 0 || first < 0 || bytes <= 0) return undefined;
  const last = points.findIndex(([, n]) => n >= finalSegments);
  const mss = curve.segmentBytes;
  const bytesPerSegment =
    mss !== null && curve.tcpBytes > 0 && mss * segments >= curve.tcpBytes ? (mss * bytes) / curve.tcpBytes : bytes / segments;
  const toBytes = (n: number) => (n >= finalSegments ? bytes : Math.min(bytes, Math.round((n - curve.baseSegments) * bytesPerSegment)));
  const marks = points.slice(first, last + 1).map(([atMs, n]) => [atMs, toBytes(n)] as const);
  return { firstAtMs: points[first]![0], lastAtMs: points[last]![0], bytes, samplesMbps: [], marks };
}

/** Cumulative bytes at the ends of the stream's sample windows: [(firstAtMs, 0), …, (lastAtMs, bytes)]. */
export function cumulativeCurve(trace: StreamTrace): [number, number][] {
  const points: [number, number][] = [[trace.firstAtMs, 0]];
  let bytes = 0;
  for (let i = 0; i < trace.samplesMbps.length; i++) {
    const endMs = trace.firstAtMs + (i + 1) * SAMPLE_INTERVAL_MS;
    if (endMs >= trace.lastAtMs) break;
    // Mbit/s × ms = 1000 bits = 125 bytes.
    bytes = Math.min(trace.bytes, bytes + trace.samplesMbps[i]! * SAMPLE_INTERVAL_MS * 125);
    points.push([endMs, bytes]);
  }
  if (trace.lastAtMs > trace.firstAtMs) points.push([trace.lastAtMs, trace.bytes]);
  const marks = (trace.marks ?? []).filter(([atMs]) => atMs >= trace.firstAtMs && atMs <= trace.lastAtMs);
  if (marks.length === 0) return points;
  const merged = [...points, ...marks.map(([atMs, b]): [number, number] => [atMs, b])].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  // The windows' bytes come from rounded rates: keep the curve from falling below an exact mark.
  for (let i = 1; i < merged.length; i++) merged[i]![1] = Math.max(merged[i]![1], merged[i - 1]![1]);
  return merged;
}

/**
 * Bytes the curve reached at `atMs` (after the arrivals at that instant: the last of several points
 * there), linear within a window, clamped at both ends.
 */
export function bytesAt(curve: readonly [number, number][], atMs: number): number {
  const first = curve[0]!;
  if (atMs < first[0]) return first[1];
  for (let i = 1; i < curve.length; i++) {
    const [t1, b1] = curve[i]!;
    if (atMs < t1) {
      const [t0, b0] = curve[i - 1]!;
      return b0 + ((b1 - b0) * (atMs - t0)) / (t1 - t0);
    }
  }
  return curve[curve.length - 1]![1];
}

/** The aggregate of N ≥ 1 streams (one stream: its own bytes over its own transfer time). */
export function aggregateStreams(traces: readonly StreamTrace[]): StreamsAggregate {
  if (traces.length === 0) return { throughputMbps: null, intervalMs: 0, overlapped: false, streamsMbps: [], samplesMbps: [] };
  const curves = traces.map(cumulativeCurve);
  const fromMs = Math.max(...traces.map((t) => t.firstAtMs));
  const toMs = Math.min(...traces.map((t) => t.lastAtMs));
  if (toMs > fromMs) {
    const intervalMs = toMs - fromMs;
    const moved = curves.map((c) => bytesAt(c, toMs) - bytesAt(c, fromMs));
    const samplesMbps: number[] = [];
    for (let startMs = fromMs; startMs < toMs; startMs += SAMPLE_INTERVAL_MS) {
      const endMs = Math.min(toMs, startMs + SAMPLE_INTERVAL_MS);
      if (endMs - startMs < SAMPLE_INTERVAL_MS / 2) break;
      const bytes = curves.reduce((sum, c) => sum + bytesAt(c, endMs) - bytesAt(c, startMs), 0);
      samplesMbps.push(mbps(bytes, endMs - startMs));
    }
    return {
      throughputMbps: mbps(sum(moved), intervalMs),
      intervalMs: round3(intervalMs),
      overlapped: true,
      streamsMbps: moved.map((b) => mbps(b, intervalMs)),
      samplesMbps,
    };
  }
  // No common interval (a stream ended before another began: a small file, or at a low rate a stream
  // that a tail-drop queue starved until another had finished): the whole span, each stream's share
  // its bytes over that span, so the shares still add up to the aggregate.
  const spanFromMs = Math.min(...traces.map((t) => t.firstAtMs));
  const spanToMs = Math.max(...traces.map((t) => t.lastAtMs));
  const spanMs = spanToMs - spanFromMs;
  return {
    throughputMbps: spanMs > 0 ? mbps(sum(traces.map((t) => t.bytes)), spanMs) : null,
    intervalMs: round3(spanMs),
    overlapped: false,
    streamsMbps: traces.map((t) => (spanMs > 0 ? mbps(t.bytes, spanMs) : 0)),
    samplesMbps: traces.length === 1 ? [...traces[0]!.samplesMbps] : [],
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
