import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analyse } from '../../src/analysis/analyse.js';
import { HOUR, MIN, type Measure, T0, schedule, storeWith } from './helpers/dataset.js';

/** `n` results of `client` inside UTC hour `hour` of day `day` (0 = T0), spread over the hour. */
function inHour(client: string, day: number, hour: number, n: number, each: Partial<Measure> = {}): Measure[] {
  return schedule(client, T0 + day * 24 * HOUR + hour * HOUR, Math.floor(HOUR / n), n, () => each);
}

describe('busiest hour', () => {
  test('a clear peak is named with high confidence, with its share', async (t) => {
    const store = await storeWith(t, [
      ...inHour('a', 0, 17, 15),
      ...inHour('b', 0, 17, 15),
      ...inHour('a', 0, 9, 10),
      ...inHour('b', 1, 3, 10),
    ]);
    const s = await analyse(store, { timeZone: 'Europe/Berlin' }); // UTC+1 in January
    assert.equal(s.hourOfDay[18]!.downloads, 30);
    assert.deepEqual(s.busiestHour, {
      hour: 18,
      downloads: 30,
      share: 0.6,
      runnerUp: { hour: 4, downloads: 10 },
      pValue: 0.001111, // P(X ≥ 30 | n = 40, p = ½) = Σ C(40, k) / 2^40 for k ≥ 30
      confidence: 'high',
      reason: '18:00: 30 downloads (60.0% of all) against 10 at 04:00, binomial p = 0.0011',
    });
    // Monday 17:xx UTC is Monday 18:xx in Berlin; Tuesday 03:xx UTC is Tuesday 04:xx.
    const cell = (weekday: number, hour: number) => s.weekdayHour.find((c) => c.weekday === weekday && c.hour === hour)!;
    assert.equal(cell(1, 18).downloads, 30);
    assert.equal(cell(2, 4).downloads, 10);
    assert.equal(cell(1, 10).downloads, 10);
    assert.equal(
      s.weekdayHour.reduce((sum, c) => sum + c.downloads, 0),
      50,
    );
  });

  test('a narrow lead is low confidence, a tie says so, thin data name nothing', async (t) => {
    const narrow = await storeWith(t, [
      ...inHour('a', 0, 8, 12),
      ...inHour('a', 0, 9, 10),
      ...inHour('a', 0, 10, 10),
      ...inHour('a', 0, 11, 10),
      ...inHour('a', 0, 12, 10),
    ]);
    const b1 = (await analyse(narrow)).busiestHour;
    assert.deepEqual([b1.hour, b1.confidence, b1.pValue], [8, 'low', 0.415906]);
    assert.match(b1.reason, /08:00 is not clearly busier: 12 downloads/);

    const even = await storeWith(t, schedule('a', T0, 20 * MIN, 72)); // every hour of a day three times
    const b2 = (await analyse(even)).busiestHour;
    assert.deepEqual([b2.hour, b2.confidence, b2.reason], [0, 'low', '00:00 and 01:00 tie at 3 downloads']);

    const thin = await storeWith(t, inHour('a', 0, 8, 20));
    const b3 = (await analyse(thin)).busiestHour;
    assert.deepEqual(b3, {
      hour: null,
      downloads: null,
      share: null,
      runnerUp: null,
      pValue: null,
      confidence: 'insufficient-data',
      reason: '20 downloads; at least 50 are needed to name a busiest hour',
    });
  });
});

describe('most congested hour', () => {
  // 'fast' measures every 15 min for a day at 100 Mbit/s, except 40 Mbit/s from 18:00 to 19:00.
  // 'slow' is slow but steady (10 Mbit/s) and only measures, often, from 02:00 to 05:00.
  const fast = schedule('fast', T0, 15 * MIN, 96, (_, at) => ({ mbps: new Date(at).getUTCHours() === 18 ? 40 : 100 }));
  const slow = [2, 3, 4].flatMap((h) => inHour('slow', 0, h, 8, { mbps: 10 }));

  test("is judged against each client's own baseline, so a slow client does not look congested", async (t) => {
    const s = await analyse(await storeWith(t, [...fast, ...slow]));
    // Plain medians would point at 02:00–04:00, where the slow client dominates ...
    assert.deepEqual(
      [2, 3, 4, 18].map((h) => s.hourOfDay[h]!.medianThroughputMbps),
      [10, 10, 10, 40],
    );
    // ... but relative to their baselines (100 and 10) both clients are at 100 % there.
    assert.deepEqual(
      [2, 3, 4, 18].map((h) => [s.hourOfDay[h]!.relativeThroughput, s.hourOfDay[h]!.clients]),
      [
        [1, 2],
        [1, 2],
        [1, 2],
        [0.4, 1],
      ],
    );
    assert.deepEqual(s.mostCongestedHour, {
      hour: 18,
      relativeThroughput: 0.4,
      typicalRelativeThroughput: 1,
      drop: 0.6,
      clients: 1,
      runnerUp: { hour: 0, relativeThroughput: 1 },
      confidence: 'high',
      reason: 'clients reach 40.0% of their baseline at 18:00 against 100.0% in a typical hour (next: 00:00 at 100.0%)',
    });
  });

  test('steady throughput names no congested hour with confidence', async (t) => {
    const s = await analyse(await storeWith(t, [...schedule('fast', T0, 15 * MIN, 96, () => ({ mbps: 100 })), ...slow]));
    assert.equal(s.mostCongestedHour.confidence, 'low');
    assert.equal(s.mostCongestedHour.drop, 0);
    assert.match(s.mostCongestedHour.reason, /^no hour is 20.0% below the typical hour/);
  });

  test('two equally congested hours are low confidence', async (t) => {
    const rush = schedule('fast', T0, 15 * MIN, 96, (_, at) => ({ mbps: [18, 19].includes(new Date(at).getUTCHours()) ? 40 : 100 }));
    const c = (await analyse(await storeWith(t, rush))).mostCongestedHour;
    assert.deepEqual([c.hour, c.confidence, c.runnerUp], [18, 'low', { hour: 19, relativeThroughput: 0.4 }]);
    assert.match(c.reason, /but 19:00 is about as congested/);
  });

  test('too few successes', async (t) => {
    const c = (await analyse(await storeWith(t, schedule('a', T0, 15 * MIN, 40)))).mostCongestedHour;
    assert.deepEqual([c.hour, c.confidence], [null, 'insufficient-data']);
  });
});

describe('local time across daylight saving changes (Europe/Berlin)', () => {
  test('spring forward: no result lands in hour 2', async (t) => {
    const day = Date.UTC(2025, 2, 29, 23); // 2025-03-30 00:00 local
    const s = await analyse(await storeWith(t, schedule('a', day, 30 * MIN, 46)), { timeZone: 'Europe/Berlin' });
    assert.deepEqual(
      s.hourOfDay.map((h) => h.downloads),
      [2, 2, 0, ...Array(21).fill(2)],
    );
    assert.ok(s.weekdayHour.filter((c) => c.weekday === 7).every((c) => c.downloads === (c.hour === 2 ? 0 : 2)));
  });

  test('fall back: hour 2 is counted twice', async (t) => {
    const day = Date.UTC(2025, 9, 25, 22); // 2025-10-26 00:00 local
    const s = await analyse(await storeWith(t, schedule('a', day, 30 * MIN, 50)), { timeZone: 'Europe/Berlin' });
    assert.deepEqual(
      s.hourOfDay.map((h) => h.downloads),
      [2, 2, 4, ...Array(21).fill(2)],
    );
    const utc = await analyse(await storeWith(t, schedule('a', day, 30 * MIN, 50)));
    // In UTC that 25-hour local day is 22:00 to 22:30 the next day: hour 22 holds the extra results.
    assert.deepEqual(
      utc.hourOfDay.map((h) => h.downloads),
      [...Array(22).fill(2), 4, 2],
    );
  });
});
