import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { TransferMeter, mainThreadCpuMs, median } from '../../src/client/meter.js';

const meta = (sha256: string | null) => ({
  name: 'f',
  sizeBytes: 0,
  sha256,
  mode: sha256 === null ? ('duration' as const) : ('file' as const),
});

test('samples: bytes per 250 ms window from the first payload byte, in Mbit/s', () => {
  const meter = new TransferMeter();
  meter.onMeta(meta(null));
  // 31 250 bytes per 250 ms = 1 Mbit/s; 62 500 = 2 Mbit/s.
  meter.onPayload(Buffer.alloc(31_250), 1000);
  meter.onPayload(Buffer.alloc(62_500), 1250);
  meter.onPayload(Buffer.alloc(31_250), 1400); // same window as 1250
  meter.onPayload(Buffer.alloc(0), 1750); // window 3 starts; the last, partial window lasts 200 ms
  const reading = meter.finish(1950);
  assert.deepEqual(reading.samplesMbps, [1, 3, 0, 0]);
  assert.equal(reading.sha256, null);
});

test('samples: a final partial window shorter than half a window is left out', () => {
  const meter = new TransferMeter();
  meter.onPayload(Buffer.alloc(31_250), 0);
  meter.onPayload(Buffer.alloc(1000), 260);
  assert.deepEqual(meter.finish(260).samplesMbps, [1]);
});

test('hashes incrementally, chunk by chunk', () => {
  const data = Buffer.from('netprobe'.repeat(1000));
  const meter = new TransferMeter();
  meter.onMeta(meta(createHash('sha256').update(data).digest('hex')));
  for (let i = 0; i < data.length; i += 333) meter.onPayload(data.subarray(i, i + 333), i);
  assert.equal(meter.finish(data.length).sha256, createHash('sha256').update(data).digest('hex'));
});

test('clientLimited: main thread busy > 90 % of a transfer of at least 200 ms', () => {
  const reading = (processMs: [number, number], mainMs: [number, number] | null, transferMs: number) => {
    const p = [...processMs];
    const m = mainMs === null ? null : [...mainMs];
    const meter = new TransferMeter({ processMs: () => p.shift()!, mainThreadMs: () => (m === null ? null : m.shift()!) });
    meter.onPayload(Buffer.alloc(1), 0);
    return meter.finish(transferMs);
  };
  assert.deepEqual(
    { ...reading([100, 1100], [50, 1000], 1000), samplesMbps: [] },
    { sha256: null, samplesMbps: [], cpuMs: 1000, clientLimited: true },
  );
  assert.equal(reading([100, 1100], [50, 850], 1000).clientLimited, false, 'process CPU includes other threads; the main thread had slack');
  assert.equal(reading([0, 950], null, 1000).clientLimited, true, 'no per-thread clock: process CPU decides');
  assert.equal(reading([0, 150], [0, 150], 150).clientLimited, false, 'too short to judge');
});

test('the real CPU clocks run', () => {
  const meter = new TransferMeter();
  meter.onPayload(Buffer.alloc(1), performance.now());
  const { cpuMs } = meter.finish(performance.now());
  assert.ok(cpuMs !== null && cpuMs >= 0);
});

test('median', () => {
  assert.equal(median([]), null);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('main-thread CPU time from /proc on Linux, null elsewhere', () => {
  const ms = mainThreadCpuMs();
  if (process.platform === 'linux') assert.ok(typeof ms === 'number' && ms >= 0 && ms % 10 === 0);
  else assert.equal(ms, null);
});
