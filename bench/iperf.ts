/**
 * iperf3's JSON report (`-J`) read by the same rule as netprobe's `--streams` figure
 * (src/client/streams.ts): the aggregate over the streams' common interval. iperf3's own
 * `sum_received` is all bytes over the whole test, from its start: it includes the start-up, where a
 * stream that lost its first segments waits out a retransmission timeout (at 10 Mbit/s behind a
 * 50 ms tbf queue, 0.4–2 s of a 4 s test) and the end, where streams finish at different times.
 * Pure.
 */

/** One stream's figures in one reporting interval of an iperf3 -J report (seconds from the test's start). */
export interface IperfStreamInterval {
  start: number;
  end: number;
  bytes: number;
}

export interface IperfReport {
  intervals: { streams: IperfStreamInterval[] }[];
  end: { sum_received: { bits_per_second: number } };
}

/**
 * Aggregate Mbit/s over the intervals in which every stream ran: those after the last stream's first
 * interval with bytes and before the first stream's last one (both boundary intervals are partly
 * idle for some stream, so neither counts). Undefined when no interval lies in between (too few
 * intervals: ask iperf3 for shorter ones with -i).
 */
export function iperfCommonIntervalMbps(report: IperfReport): number | undefined {
  const intervals = report.intervals;
  const streamCount = intervals[0]?.streams.length ?? 0;
  if (streamCount === 0) return undefined;
  let from = 0;
  let to = intervals.length - 1;
  for (let s = 0; s < streamCount; s++) {
    const active = intervals.map((iv) => (iv.streams[s]?.bytes ?? 0) > 0);
    from = Math.max(from, active.indexOf(true) + 1);
    to = Math.min(to, active.lastIndexOf(true) - 1);
  }
  if (to < from) return undefined;
  let bytes = 0;
  for (let i = from; i <= to; i++) for (const s of intervals[i]!.streams) bytes += s.bytes;
  const seconds = intervals[to]!.streams[0]!.end - intervals[from]!.streams[0]!.start;
  return seconds > 0 ? (bytes * 8) / seconds / 1e6 : undefined;
}
