/**
 * The loaded-RTT reference (bench/netns.ts `transferBacklog`) reads the tbf backlog only over the
 * transfer: samples before the first queued byte and after the last are the client starting, its
 * idle PINGs and its REPORT, and counting them made the reference depend on how busy the machine was
 * (test/accuracy/netns.test.ts failed at 10 Mbit/s with ratios 1.6–24 on a loaded machine). A packet
 * joining the queue waits for all but half of the head packet (`joiningWaitBytes`): tbf releases a
 * packet whole once its tokens have accrued, and on a veth the head is a GSO packet of up to 16 KiB.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joiningWaitBytes, transferBacklog } from '../../bench/netns.js';

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
