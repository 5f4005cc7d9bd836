/**
 * What the rules read of one series of measurements: columns in start-time order. A series is one
 * client's results today; nothing in the rules assumes more about what it is (a client and a
 * direction would be a series too). The store's ClientMeasurements is one; the dashboard builds
 * them from its window. Absent values are NaN. No imports: the browser bundle uses the rules.
 */
export interface Samples {
  /** Whose results: the series' name in episodes and verdicts. */
  client: string;
  startedAtMs: Float64Array;
  throughputMbps: Float64Array;
  /** Request sent to last byte: the latency the degraded test judges. */
  downloadMs: Float64Array;
  /** 1 when the result carries an error. */
  failed: Uint8Array;
}

/** Values of the successful results in `column` (in result order, NaN left out). */
export function successful(s: Pick<Samples, 'failed'>, column: Float64Array): Float64Array {
  const out = new Float64Array(column.length);
  let n = 0;
  for (let i = 0; i < column.length; i++) if (s.failed[i] === 0 && !Number.isNaN(column[i]!)) out[n++] = column[i]!;
  return out.subarray(0, n);
}
