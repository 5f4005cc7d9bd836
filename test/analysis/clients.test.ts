import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { ANALYSIS_SCHEMA } from '../../src/analysis/types.js';
import { MIN, T0, schedule, storeWith } from './helpers/dataset.js';

describe('per-client statistics', () => {
  test('computed by hand: five successes and a failure', async (t) => {
    const rates = [10, 20, 30, 40, 50];
    const store = await storeWith(t, [
      ...schedule('alice', T0, 5 * MIN, 5, (i) => ({
        mbps: rates[i]!,
        downloadMs: 100 * (i + 1),
        responseMs: 10 * (i + 1),
        idleRttMs: i + 1,
        loadedRttMs: 11 + i,
        clientLimited: i === 0,
        // RPM 4,800, 1,200, none, 0 (not counted), 600.
        rpm: [4_800, 1_200, null, 0, 600][i]!,
        // Sender's kernel RTT on the first three; 2 retransmits in all.
        ...(i < 3 ? { tcpRttMs: [10, 20, 60][i]!, tcpRetransmits: [0, 2, 0][i]! } : {}),
      })),
      { client: 'alice', at: T0 + 25 * MIN, failed: true },
    ]);
    const s = await analyse(store, { thresholds: { minBaselineSamples: 5 } });
    assert.equal(s.schema, ANALYSIS_SCHEMA);
    assert.equal(s.clients.length, 1);
    const a = s.clients[0]!;
    assert.deepEqual(a.downloads, { total: 6, succeeded: 5, failed: 1, failureRate: 0.1667 });
    // numpy: percentile([10..50], 5) = 12, 95 → 48; std(ddof=1) = sqrt(250) = 15.811; cv = 15.811/30
    assert.deepEqual(a.throughputMbps, { mean: 30, min: 10, max: 50, median: 30, p5: 12, p95: 48, stddev: 15.811, cv: 0.527 });
    assert.deepEqual(a.latencyMs, { mean: 300, p95: 480 });
    assert.deepEqual(a.responseMs, { mean: 30, p95: 48 });
    assert.deepEqual(a.rttMs, { idle: 3, loaded: 13, bufferbloat: 10 });
    // Harmonic mean of 4,800, 1,200 and 600: round trips 12.5, 50, 100 ms → mean 54.1667 ms → 1,107.692 RPM.
    assert.equal(a.rpm, 1107.692);
    assert.equal(a.rpmResults, 3);
    assert.deepEqual(a.tcp, { rttMs: 30, retransmits: 2, results: 3 });
    assert.equal(a.clientLimitedShare, 0.2);
    assert.equal(a.bytes, 5_000_000);
    assert.equal(a.firstSeen, new Date(T0).toISOString());
    assert.equal(a.lastSeen, new Date(T0 + 25 * MIN).toISOString());
    // Baselines: p90 of throughput = 46, p10 of download time = 140.
    assert.deepEqual(a.baseline, { throughputMbps: 46, latencyMs: 140 });
    assert.deepEqual(a.schedule, {
      expectedIntervalMs: 300_000,
      gaps: 0,
      longestGapMs: null,
      missedEstimate: 0,
      silent: false,
      silentForMs: 0,
    });
    assert.deepEqual(s.totals, { clients: 1, downloads: 6, succeeded: 5, failed: 1, failureRate: 0.1667, bytes: 5_000_000 });
    assert.deepEqual(
      s.findings.map((f) => f.kind),
      ['failures'],
    );
  });

  test('several clients are listed by name, each with its own numbers', async (t) => {
    const store = await storeWith(t, [
      ...schedule('zulu', T0, MIN, 3, () => ({ mbps: 5 })),
      ...schedule('alpha', T0, MIN, 4, () => ({ mbps: 7 })),
    ]);
    const s = await analyse(store);
    assert.deepEqual(
      s.clients.map((c) => [c.client, c.downloads.total, c.throughputMbps.mean]),
      [
        ['alpha', 4, 7],
        ['zulu', 3, 5],
      ],
    );
    const only = await analyse(store, { clients: ['zulu'] });
    assert.deepEqual(
      only.clients.map((c) => c.client),
      ['zulu'],
    );
    assert.deepEqual(only.window.clients, ['zulu']);
  });

  test('one result', async (t) => {
    const store = await storeWith(t, [{ client: 'solo', at: T0, mbps: 42.5, downloadMs: 200 }]);
    const s = await analyse(store);
    const c = s.clients[0]!;
    assert.deepEqual(c.throughputMbps, { mean: 42.5, min: 42.5, max: 42.5, median: 42.5, p5: 42.5, p95: 42.5, stddev: null, cv: null });
    assert.equal(c.schedule.expectedIntervalMs, null);
    assert.equal(c.schedule.silent, false);
    assert.deepEqual(c.baseline, { throughputMbps: null, latencyMs: null });
    assert.equal(c.trend, null);
    // A result from before capability 'tcp-info': no TCP figures.
    assert.deepEqual(c.tcp, { rttMs: null, retransmits: null, results: 0 });
    assert.equal(s.busiestHour.confidence, 'insufficient-data');
    assert.equal(s.mostCongestedHour.confidence, 'insufficient-data');
    assert.equal(s.hourOfDay[0]!.downloads, 1);
    assert.equal(s.hourOfDay[0]!.medianThroughputMbps, 42.5);
  });

  test('all failed', async (t) => {
    const store = await storeWith(
      t,
      schedule('down', T0, 5 * MIN, 12, () => ({ failed: true })),
    );
    const s = await analyse(store);
    const c = s.clients[0]!;
    assert.deepEqual(c.downloads, { total: 12, succeeded: 0, failed: 12, failureRate: 1 });
    assert.deepEqual(Object.values(c.throughputMbps), Array(8).fill(null));
    assert.deepEqual(c.latencyMs, { mean: null, p95: null });
    assert.equal(c.clientLimitedShare, null);
    assert.equal(c.baseline.throughputMbps, null);
    assert.equal(c.episodes, 0);
    assert.equal(s.hourOfDay[0]!.failureRate, 1);
    assert.equal(s.hourOfDay[0]!.medianThroughputMbps, null);
    assert.deepEqual(
      s.findings.map((f) => [f.kind, f.message]),
      [['failures', '100.0% of downloads failed (12 of 12)']],
    );
  });

  test('empty store: a complete summary of nothing', async (t) => {
    const store = await storeWith(t, []);
    const s = await analyse(store, { timeZone: 'Europe/Berlin' });
    assert.deepEqual(s.totals, { clients: 0, downloads: 0, succeeded: 0, failed: 0, failureRate: null, bytes: 0 });
    assert.deepEqual(s.clients, []);
    assert.equal(s.hourOfDay.length, 24);
    assert.equal(s.weekdayHour.length, 168);
    assert.ok(s.hourOfDay.every((h) => h.downloads === 0 && h.medianThroughputMbps === null));
    assert.equal(s.busiestHour.hour, null);
    assert.equal(s.busiestHour.confidence, 'insufficient-data');
    assert.equal(s.mostCongestedHour.confidence, 'insufficient-data');
    assert.deepEqual([s.episodes, s.networkEpisodes, s.findings, s.series.clients, s.series.network], [[], [], [], [], []]);
    assert.deepEqual(s.window, {
      since: null,
      until: null,
      firstResult: null,
      lastResult: null,
      end: null,
      timeZone: 'Europe/Berlin',
      clients: [],
      bucketMs: 300_000,
      direction: 'download',
      otherDirectionResults: 0,
    });
  });

  test('bad options are usage errors', async (t) => {
    const store = await storeWith(t, []);
    const cases: [Parameters<typeof analyse>[1], RegExp][] = [
      [{ timeZone: 'Nowhere/Special' }, /unknown time zone/],
      [{ sinceMs: T0, untilMs: T0 }, /--since .* must be before --until/],
      [{ thresholds: { gapFactor: 0.5 } }, /threshold gapFactor=0.5/],
      [{ thresholds: { networkShare: 2 } }, /threshold networkShare=2/],
      [{ thresholds: { bogus: 1 } as never }, /unknown threshold 'bogus'/],
      [{ bucketMs: 10 }, /bucket must be/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(analyse(store, options), { code: 'NETPROBE_USAGE', message }, String(message));
    }
  });
});
