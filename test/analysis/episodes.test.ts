import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { MIN, T0, schedule, storeWith } from './helpers/dataset.js';

const at = (minutes: number) => new Date(T0 + minutes * MIN).toISOString();
const noLoad = { meanConcurrentTransfers: null, meanOutboundMbps: null, windowMeanConcurrentTransfers: null, coincides: null };

describe('client episodes', () => {
  // Every 5 minutes from 0 to 120: slow (20 of 100 Mbit/s) at 30–45, briefly slow at 80–85,
  // slow to finish (400 ms against 100 ms) at 100–110.
  const alice = schedule('alice', T0, 5 * MIN, 25, (i) => {
    const minute = i * 5;
    if ((minute >= 30 && minute <= 45) || minute === 80 || minute === 85) return { mbps: 20 };
    if (minute >= 100 && minute <= 110) return { downloadMs: 400 };
    return {};
  });

  test('exact start and end, throughput- and latency-triggered; a short run is not an episode', async (t) => {
    const s = await analyse(await storeWith(t, [...alice, ...schedule('bob', T0, 5 * MIN, 25)]));
    assert.deepEqual(
      s.clients.map((c) => [c.client, c.baseline.throughputMbps, c.baseline.latencyMs, c.episodes]),
      [
        ['alice', 100, 100, 2],
        ['bob', 100, 100, 0],
      ],
    );
    assert.deepEqual(s.episodes, [
      {
        client: 'alice',
        start: at(30),
        end: at(45),
        durationMs: 15 * MIN,
        measurements: 4,
        causes: { lowThroughput: 4, highLatency: 0, failed: 0 },
        severity: 0.8,
        baselineMbps: 100,
        medianThroughputMbps: 20,
        maxLatencyMs: 100,
        networkWide: false,
        serverLoad: noLoad,
        likelyCause: 'client-path',
      },
      {
        client: 'alice',
        start: at(100),
        end: at(110),
        durationMs: 10 * MIN,
        measurements: 3,
        causes: { lowThroughput: 0, highLatency: 3, failed: 0 },
        severity: 0.75,
        baselineMbps: 100,
        medianThroughputMbps: 100,
        maxLatencyMs: 400,
        networkWide: false,
        serverLoad: noLoad,
        likelyCause: 'client-path',
      },
    ]);
    assert.deepEqual(s.networkEpisodes, []);
  });

  test('thresholds move the answer: a shorter minimum span admits the short run', async (t) => {
    const s = await analyse(await storeWith(t, alice), { thresholds: { minEpisodeMs: 5 * MIN, minEpisodeMeasurements: 2 } });
    assert.deepEqual(
      s.episodes.map((e) => [e.start, e.end]),
      [
        [at(30), at(45)],
        [at(80), at(85)],
        [at(100), at(110)],
      ],
    );
    assert.equal(s.episodes[0]!.likelyCause, 'unknown'); // one client: shared or not cannot be told
  });

  test('failures belong to an episode; a gap in the schedule ends a run', async (t) => {
    const failing = schedule('carol', T0, 5 * MIN, 25, (i) => (i === 6 || i === 8 ? { failed: true } : i === 7 ? { mbps: 20 } : {}));
    const gappy = schedule('dave', T0, 5 * MIN, 25, (i) => (i === 4 || i === 5 || i === 13 || i === 14 ? { mbps: 20 } : {})).filter(
      (_, i) => i < 6 || i > 12,
    );
    const s = await analyse(await storeWith(t, [...failing, ...gappy]));
    assert.deepEqual(
      s.episodes.map((e) => [e.client, e.start, e.end, e.causes, e.severity]),
      [['carol', at(30), at(40), { lowThroughput: 1, highLatency: 0, failed: 2 }, 1]],
    );
    // dave: slow at 20, 25, then silent until 65, slow at 65, 70: two short runs, not one long one.
    assert.equal(s.clients.find((c) => c.client === 'dave')!.schedule.gaps, 1);
  });
});

describe('network-wide episodes', () => {
  // Four clients every 5 minutes for 3 hours, 1 minute apart. a, b and c are slow (20 Mbit/s)
  // from minute 60 to 92; d alone is slow from 153 to 168.
  function fleet(busyServer: boolean) {
    return ['a', 'b', 'c', 'd'].flatMap((client, k) =>
      schedule(client, T0 + k * MIN, 5 * MIN, 37, (_, time) => {
        const minute = (time - T0) / MIN;
        const inRush = minute >= 60 && minute <= 92;
        const slow = (k < 3 && inRush) || (k === 3 && minute >= 153 && minute <= 168);
        return {
          ...(slow && { mbps: 20 }),
          serverConcurrentTransfers: busyServer && inRush ? 10 : 1,
          serverOutboundMbps: inRush ? 900 : 300,
        };
      }),
    );
  }

  test('many clients at once: network-wide, coinciding with server load', async (t) => {
    const s = await analyse(await storeWith(t, fleet(true)));
    assert.deepEqual(
      s.episodes.map((e) => [e.client, e.start, e.end, e.networkWide, e.likelyCause]),
      [
        ['a', at(60), at(90), true, 'server-load'],
        ['b', at(61), at(91), true, 'server-load'],
        ['c', at(62), at(92), true, 'server-load'],
        ['d', at(153), at(168), false, 'client-path'],
      ],
    );
    // 148 results, 27 of them at concurrency 10 (minutes 60–92), the rest at 1: mean 391 / 148.
    assert.deepEqual(s.networkEpisodes, [
      {
        start: at(61),
        end: at(91),
        durationMs: 30 * MIN,
        clients: ['a', 'b', 'c'],
        peakClients: 3,
        peakShare: 0.75,
        severity: 0.8,
        serverLoad: { meanConcurrentTransfers: 10, meanOutboundMbps: 900, windowMeanConcurrentTransfers: 2.642, coincides: true },
        likelyCause: 'server-load',
      },
    ]);
    assert.deepEqual(s.episodes[3]!.serverLoad, {
      meanConcurrentTransfers: 1,
      meanOutboundMbps: 300,
      windowMeanConcurrentTransfers: 2.642,
      coincides: false,
    });
    const finding = s.findings.find((f) => f.kind === 'network-episode')!;
    assert.deepEqual(finding, {
      kind: 'network-episode',
      client: null,
      at: at(61),
      message: '3 clients degraded together for 30m (peak 75.0% of active clients); likely cause: server-load',
    });
  });

  test('without server load it points at the server or a shared path', async (t) => {
    const s = await analyse(await storeWith(t, fleet(false)));
    assert.deepEqual(
      s.networkEpisodes.map((n) => [n.start, n.end, n.serverLoad.coincides, n.likelyCause]),
      [[at(61), at(91), false, 'server-or-shared-path']],
    );
  });

  test('a share threshold above what happened: no network-wide episode', async (t) => {
    const s = await analyse(await storeWith(t, fleet(true)), { thresholds: { networkShare: 0.8 } });
    assert.deepEqual(s.networkEpisodes, []);
    assert.ok(s.episodes.every((e) => !e.networkWide));
    assert.equal(s.episodes[0]!.likelyCause, 'server-load'); // still busy server while a was slow
  });
});
