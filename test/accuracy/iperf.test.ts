/** bench/iperf.ts: iperf3's -P report read over the streams' common interval, on made-up reports. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type IperfReport, iperfCommonIntervalMbps } from '../../bench/iperf.js';

/** A report of 100 ms intervals; `rates[s][i]` is stream s's Mbit/s in interval i. */
function report(rates: number[][]): IperfReport {
  const count = rates[0]!.length;
  return {
    intervals: Array.from({ length: count }, (_, i) => ({
      streams: rates.map((r) => ({ start: i / 10, end: (i + 1) / 10, bytes: (r[i]! * 1e6 * 0.1) / 8 })),
    })),
    end: { sum_received: { bits_per_second: 0 } },
  };
}

test('only the intervals in which every stream ran count: not a late stream’s start nor an early one’s end', () => {
  // Stream 2 waits 0.3 s (a retransmission timeout) before its first bytes, stream 1 ends early.
  const r = report([
    [10, 5, 5, 5, 5, 5, 5, 0, 0],
    [0, 0, 0, 4, 5, 5, 5, 10, 10],
  ]);
  const mbps = iperfCommonIntervalMbps(r);
  assert.ok(mbps !== undefined && Math.abs(mbps - 10) < 1e-9, `${mbps}`);
});

test('no interval in which all streams ran: undefined', () => {
  assert.equal(
    iperfCommonIntervalMbps(
      report([
        [10, 10, 0],
        [0, 10, 10],
      ]),
    ),
    undefined,
  );
  assert.equal(iperfCommonIntervalMbps({ intervals: [], end: { sum_received: { bits_per_second: 0 } } }), undefined);
});
