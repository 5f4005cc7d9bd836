import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientMeasurements } from '../../src/store/analysis-types.js';
import { HOUR, MIN, T0, storeWith } from './helpers/dataset.js';

const H = HOUR;

describe('SQLite analysis queries', () => {
  test('clientMeasurements: one block per client, columns in canonical order, NaN for absent values', async (t) => {
    const store = await storeWith(t, [
      { client: 'b', at: T0 + 2 * MIN, mbps: 30 },
      { client: 'a', at: T0 + MIN, mbps: 20, idleRttMs: 2, loadedRttMs: 12, clientLimited: true },
      { client: 'a', at: T0 + MIN, failed: true, idleRttMs: 4 },
      { client: 'a', at: T0 + MIN, mbps: 10, responseMs: null },
      { client: 'a', at: T0, mbps: 50, bytes: 7 },
    ]);
    const blocks: ClientMeasurements[] = [];
    for await (const m of store.clientMeasurements()) blocks.push(m);
    assert.deepEqual(
      blocks.map((b) => b.client),
      ['a', 'b'],
    );
    const a = blocks[0]!;
    // Ties on startedAtMs are ordered by failed, then throughput (absent first).
    assert.deepEqual([...a.startedAtMs], [T0, T0 + MIN, T0 + MIN, T0 + MIN]);
    assert.deepEqual([...a.failed], [0, 0, 0, 1]);
    assert.deepEqual([...a.throughputMbps], [50, 10, 20, NaN]);
    assert.deepEqual([...a.responseMs], [10, NaN, 10, NaN]);
    assert.deepEqual(
      [a.results, a.bytes, a.clientLimited, a.idleRttMs, a.loadedRttMs, a.bufferbloatMs, a.serverConcurrentTransfers],
      [4, 7 + 2_000_000, 1, { count: 2, sum: 6 }, { count: 1, sum: 12 }, { count: 1, sum: 10 }, { count: 0, sum: 0 }],
    );
    const onlyB: string[] = [];
    for await (const m of store.clientMeasurements({ clients: ['b'], sinceMs: T0 })) onlyB.push(m.client);
    assert.deepEqual(onlyB, ['b']);
  });

  test('localTimeProfile: counts and exact percentiles per hour and weekday-hour, in the given offsets', async (t) => {
    const monday = T0; // 2025-01-06
    const store = await storeWith(t, [
      { client: 'a', at: monday + 10 * H, mbps: 10, downloadMs: 100 },
      { client: 'a', at: monday + 10 * H + 10 * MIN, mbps: 20, downloadMs: 200 },
      { client: 'b', at: monday + 10 * H + 20 * MIN, mbps: 30, downloadMs: 300 },
      { client: 'a', at: monday + 10 * H + 30 * MIN, failed: true },
      { client: 'a', at: monday + 7 * 24 * H + 10 * H, mbps: 40, downloadMs: 400 }, // next Monday
      { client: 'a', at: monday + 24 * H + 10 * H, mbps: 50, downloadMs: 500, bytes: 5 }, // Tuesday
    ]);
    // UTC+2 from Tuesday noon UTC on: the next Monday's 10:00 UTC is 12:00 local.
    const offsets = [
      { fromMs: 0, offsetMs: 0 },
      { fromMs: monday + 36 * H, offsetMs: 2 * H },
    ];
    const p = await store.localTimeProfile({}, { offsets, throughputPercentiles: [0.5, 0.9], downloadPercentiles: [0.95] });
    assert.equal(p.hours.length, 24);
    assert.equal(p.weekdayHours.length, 168);
    assert.deepEqual(p.weekdayHours[10], { downloads: 4, failed: 1, bytes: 3_000_000, throughputMbps: [20, 28], downloadMs: [290] });
    assert.deepEqual(p.weekdayHours[24 + 10], { downloads: 1, failed: 0, bytes: 5, throughputMbps: [50, 50], downloadMs: [500] });
    // Hour 10 merges Monday and Tuesday: throughput 10, 20, 30, 50; download 100, 200, 300, 500.
    const { downloadMs, ...hour10 } = p.hours[10]!;
    assert.deepEqual(hour10, { downloads: 5, failed: 1, bytes: 3_000_005, throughputMbps: [25, 44] });
    assert.equal(downloadMs[0]!.toFixed(9), '470.000000000');
    assert.deepEqual(p.hours[12], { downloads: 1, failed: 0, bytes: 1_000_000, throughputMbps: [40, 40], downloadMs: [400] });
    assert.deepEqual(p.weekdayHours[12], { downloads: 1, failed: 0, bytes: 1_000_000, throughputMbps: [40, 40], downloadMs: [400] });
    assert.deepEqual(p.hours[0], { downloads: 0, failed: 0, bytes: 0, throughputMbps: [null, null], downloadMs: [null] });
  });

  test('serverLoad (closed windows, all clients), lastSeenBefore and resultSpan', async (t) => {
    const store = await storeWith(t, [
      { client: 'a', at: T0, serverConcurrentTransfers: 2, serverOutboundMbps: 100 },
      { client: 'b', at: T0 + MIN, serverConcurrentTransfers: 4, serverOutboundMbps: 300 },
      { client: 'b', at: T0 + 2 * MIN },
    ]);
    assert.deepEqual(
      await store.serverLoad([
        { fromMs: T0, toMs: T0 + MIN },
        { fromMs: T0 + 2 * MIN, toMs: T0 + 3 * MIN },
      ]),
      [
        { results: 2, annotated: 2, meanConcurrentTransfers: 3, meanOutboundMbps: 200 },
        { results: 1, annotated: 0, meanConcurrentTransfers: null, meanOutboundMbps: null },
      ],
    );
    // Overlapping, nested, one-instant and empty windows, given out of order.
    assert.deepEqual(
      await store.serverLoad([
        { fromMs: T0 + MIN, toMs: T0 + MIN },
        { fromMs: T0, toMs: T0 + 2 * MIN },
        { fromMs: T0 + HOUR, toMs: T0 + 2 * HOUR },
      ]),
      [
        { results: 1, annotated: 1, meanConcurrentTransfers: 4, meanOutboundMbps: 300 },
        { results: 3, annotated: 2, meanConcurrentTransfers: 3, meanOutboundMbps: 200 },
        { results: 0, annotated: 0, meanConcurrentTransfers: null, meanOutboundMbps: null },
      ],
    );
    assert.deepEqual(await store.lastSeenBefore(T0 + 2 * MIN), [
      { client: 'a', lastMs: T0 },
      { client: 'b', lastMs: T0 + MIN },
    ]);
    assert.deepEqual(await store.lastSeenBefore(T0 + 2 * MIN, ['a']), [{ client: 'a', lastMs: T0 }]);
    assert.deepEqual(await store.resultSpan({ clients: ['b'] }), { count: 2, firstMs: T0 + MIN, lastMs: T0 + 2 * MIN });
    assert.deepEqual(await store.resultSpan({ sinceMs: T0 + 5 * MIN }), { count: 0, firstMs: null, lastMs: null });
  });
});
