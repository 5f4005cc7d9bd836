/**
 * Read queries the analysis needs from a store. They exist so that a store can do the heavy
 * lifting (grouping, sorting, percentiles) in its database and hand over per-client or per-hour
 * blocks, never the whole table. Both stores must return the same values for the same rows.
 * Times are ms since the epoch (UTC); absent values are NaN in typed arrays and null elsewhere.
 * Percentiles follow `percentileSorted` (numpy 'linear', PostgreSQL percentile_cont).
 */

/** A UTC offset in force from `fromMs` until the next span's `fromMs`; the first span also covers all earlier times. */
export interface UtcOffsetSpan {
  fromMs: number;
  /** Local time minus UTC, ms (Europe/Berlin in summer: 7_200_000). */
  offsetMs: number;
}

export interface ResultSpan {
  count: number;
  firstMs: number | null;
  lastMs: number | null;
}

export interface SumCount {
  /** Results where the value is present. */
  count: number;
  sum: number;
}

/** One client's results in the filter, as columns. */
export interface ClientMeasurements {
  client: string;
  results: number;
  bytes: number;
  /** Results without error whose client CPU, not the network, bounded the transfer. */
  clientLimited: number;
  idleRttMs: SumCount;
  loadedRttMs: SumCount;
  /** loadedRttMs − idleRttMs over the results that have both. */
  bufferbloatMs: SumCount;
  /**
   * Responsiveness of the results with rpm > 0: their count and the sum of 1 ÷ rpm (the analysis
   * aggregates them with `aggregateRpm`, analysis/responsiveness.ts).
   */
  rpmReciprocal: SumCount;
  /** The sending TCP's kernel RTT (tcpRttMs) and retransmits (tcpRetransmits) of the results that carry them. */
  tcpRttMs: SumCount;
  tcpRetransmits: SumCount;
  /** The server's load annotations of these results. */
  serverConcurrentTransfers: SumCount;
  serverOutboundMbps: SumCount;
  /**
   * One entry per result, ordered by startedAtMs, then failed, throughputMbps, downloadMs,
   * responseMs ascending (NaN first), so every store yields the same order.
   */
  startedAtMs: Float64Array;
  throughputMbps: Float64Array;
  downloadMs: Float64Array;
  responseMs: Float64Array;
  /** 1 when the result carries an error. */
  failed: Uint8Array;
}

export interface ProfileQuery {
  /** Offsets of the analysis time zone covering the filter's time range. */
  offsets: readonly UtcOffsetSpan[];
  /** Percentiles (0..1) of throughputMbps wanted per group. */
  throughputPercentiles: readonly number[];
  /** Percentiles (0..1) of downloadMs wanted per group. */
  downloadPercentiles: readonly number[];
}

/** Aggregates of the results that fall in one local hour (or weekday-hour). */
export interface ProfileGroup {
  downloads: number;
  failed: number;
  bytes: number;
  /** Percentiles over results without error, in ProfileQuery order; null when there are none. */
  throughputMbps: (number | null)[];
  downloadMs: (number | null)[];
}

export interface LocalTimeProfile {
  /** 24 groups; index = local hour 0..23. */
  hours: ProfileGroup[];
  /** 168 groups; index = (ISO weekday − 1) × 24 + local hour (Monday 00:00 first). */
  weekdayHours: ProfileGroup[];
}

/** Closed interval [fromMs, toMs] of result start times. */
export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** The server's load annotations of the results (all clients) started in a window. */
export interface ServerLoad {
  results: number;
  /** Results that carry serverConcurrentTransfers. */
  annotated: number;
  meanConcurrentTransfers: number | null;
  meanOutboundMbps: number | null;
}

export interface ClientLastSeen {
  client: string;
  lastMs: number;
}
