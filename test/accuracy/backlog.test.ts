/**
 * The loaded-RTT reference (bench/netns.ts `transferBacklog`) reads the tbf backlog only over the
 * transfer: samples before the first queued byte and after the last are the client starting, its
 * idle PINGs and its REPORT, and counting them made the reference depend on how busy the machine was
 * (test/accuracy/netns.test.ts failed at 10 Mbit/s with ratios 1.6–24 on a loaded machine).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transferBacklog } from '../../bench/netns.js';

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
