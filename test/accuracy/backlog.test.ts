/**
 * The loaded-RTT reference (bench/netns.ts `transferBacklog`) reads the tbf backlog only over the
 * transfer: samples before the first queued byte and after the last are the client starting, its
 * idle PINGs and its REPORT, and counting them made the reference depend on how busy the machine was
 * (test/accuracy/netns.test.ts failed at 10 Mbit/s with ratios 1.6–24 on a loaded machine). A packet
 * joining the queue waits for all but half of the head packet (`joiningWaitBytes`): tbf releases a
 * packet whole once its tokens have accrued, and on a veth the head is a GSO packet of up to 16 KiB.
 * The neutral prober that checks the reference (bench/accuracy.ts, TCP SYN → RST) counts only its
 * probes sent within that same span (`transferWindow`, `probesDuring`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joiningWaitBytes, pingProbes, probesDuring, transferBacklog, transferWindow } from '../../bench/netns.js';

test('the backlog reference is the median from the first to the last queued sample, zeros between included', () => {
  // Start-up and REPORT phases (zeros) around a transfer whose queue holds 60,000 bytes.
  const around = [0, 0, 0, 0, 0, 0, 0, 0, 58_000, 60_000, 62_000, 0, 61_000, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.equal(transferBacklog(around), 60_000);
  // Zeros inside the transfer count: the queue did drain there.
  assert.equal(transferBacklog([0, 10, 0, 0, 0, 20, 0]), 0);
  assert.equal(transferBacklog([5, 7, 9]), 7);
});

test('no queued sample gives a backlog of 0', () => {
  assert.equal(transferBacklog([]), 0);
  assert.equal(transferBacklog([0, 0, 0]), 0);
});

test('a joining packet waits for the backlog less half the head packet (tbf releases a GSO packet whole)', () => {
  // Two 9-segment GSO packets (13,626 bytes each): 27,252 bytes queued, the head half paid for on average.
  assert.equal(joiningWaitBytes(27_252, 2), 27_252 - 13_626 / 2);
  // One GSO packet: half of it.
  assert.equal(joiningWaitBytes(13_626, 1), 6_813);
  // MTU packets: half of one 1,514-byte packet off a long queue, nearly the whole backlog.
  assert.equal(joiningWaitBytes(60 * 1514, 60), 60 * 1514 - 757);
  assert.equal(joiningWaitBytes(0, 0), 0);
  // A backlog without a packet count (a qdisc that reports none) is taken whole.
  assert.equal(joiningWaitBytes(5_000, 0), 5_000);
});

test('the transfer window spans the first to the last sample with bytes queued', () => {
  const backlog = [0, 0, 500, 0, 700, 0, 0];
  const at = [0, 50, 100, 150, 200, 250, 300];
  assert.deepEqual(transferWindow(backlog, at), { startMs: 100, endMs: 200 });
  assert.equal(transferWindow([0, 0], [0, 50]), undefined);
});

test('the neutral prober counts only the probes sent within the transfer window', () => {
  const window = { startMs: 100, endMs: 200 };
  const probes = [
    { sentAtMs: 20, rttMs: 0.1 }, // idle, before the load
    { sentAtMs: 60, rttMs: 0.1 },
    { sentAtMs: 100, rttMs: 5 },
    { sentAtMs: 140, rttMs: 6 },
    { sentAtMs: 200, rttMs: 7 },
    { sentAtMs: 240, rttMs: 0.1 }, // after the queue drained
    { sentAtMs: 280, rttMs: 0.1 },
  ];
  assert.equal(probesDuring(probes, window), 6);
  assert.equal(probesDuring(probes.slice(0, 2), window), null);
  assert.equal(probesDuring(probes, undefined), null);
});

test('ping -D lines become probes on this process clock: sent = printed wall time - round trip - time origin', () => {
  const output = [
    'PING 10.213.0.2 (10.213.0.2) 56(84) bytes of data.',
    '[1796535602.174135] 64 bytes from 10.213.0.2: icmp_seq=1 ttl=64 time=0.086 ms',
    '[1796535602.229101] 64 bytes from 10.213.0.2: icmp_seq=2 ttl=64 time=12.5 ms',
    '[1796535602.300000] From 10.213.0.1 icmp_seq=3 Destination Host Unreachable',
    '',
    '--- 10.213.0.2 ping statistics ---',
  ].join('\n');
  const origin = 1796535600000;
  const probes = pingProbes(output, origin);
  assert.equal(probes.length, 2);
  assert.ok(Math.abs(probes[0]!.sentAtMs - (2174.135 - 0.086)) < 1e-3);
  assert.equal(probes[0]!.rttMs, 0.086);
  assert.ok(Math.abs(probes[1]!.sentAtMs - (2229.101 - 12.5)) < 1e-3);
  // Only the probes sent within the transfer count, as for the other prober.
  assert.equal(probesDuring(probes, { startMs: 2200, endMs: 2300 }), 12.5);
});
