import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '../../src/web/api-types.js';
import { median } from '../../src/web/congestion.js';
import { type ClientMeta, buildSummary, silentAfterMs } from '../../src/web/summary.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const WINDOW = 6 * HOUR;
/** A fixed "now" on an hour boundary, so hour buckets are easy to name. */
const NOW = Date.UTC(2025, 0, 15, 18, 0, 0);

let seq = 0;
/** A 10 MB download at `mbps` (its download time follows), or a failure. */
function pt(client: string, agoMs: number, mbps: number | null, error: string | null = null): Point {
  const downloadMs = error || mbps === null ? null : 80_000 / mbps + 2;
  return { id: `id-${seq++}`, client, t: NOW - agoMs, mbps: error ? null : mbps, responseMs: 2, downloadMs, error, rpm: null };
}

/** One result every 10 minutes over the window, `rate(agoMs)` Mbit/s. */
function series(client: string, rate: (agoMs: number) => number): Point[] {
  const out: Point[] = [];
  for (let ago = WINDOW - 5 * MIN; ago >= 0; ago -= 10 * MIN) out.push(pt(client, ago, rate(ago)));
  return out;
}

function metas(points: readonly Point[]): Map<string, ClientMeta> {
  const m = new Map<string, ClientMeta>();
  for (const p of points) {
    const cur = m.get(p.client);
    if (!cur || p.t >= cur.lastStartedMs) {
      m.set(p.client, {
        lastSeenMs: p.t + 100,
        lastStartedMs: p.t,
        lastMbps: p.mbps,
        lastResponseMs: p.responseMs,
        lastDownloadMs: p.downloadMs,
        lastError: p.error,
      });
    }
  }
  return m;
}

describe('congestion rule', () => {
  test('median', () => {
    assert.equal(median([]), null);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  test("a client's episode is the analyser's: degraded results in a row, at least 3 and 10 minutes", () => {
    const steady = series('a', () => 100);
    // One slow result makes the client congested now, but it is not an episode.
    const one = [...steady.slice(0, -1), pt('a', 0, 30)];
    const s1 = buildSummary(one, metas(one), NOW, WINDOW);
    assert.equal(s1.clients[0]!.status, 'congested');
    assert.deepEqual(s1.episodes, []);
    // Three slow results over 20 minutes are one, still going on; a failure counts as degraded.
    const three = [...steady.slice(0, -3), pt('a', 25 * MIN, 30), pt('a', 15 * MIN, null, 'E'), pt('a', 5 * MIN, 40)];
    const s3 = buildSummary(three, metas(three), NOW, WINDOW);
    assert.equal(s3.episodes.length, 1);
    assert.deepEqual(
      { ...s3.episodes[0]!, severity: Math.round(s3.episodes[0]!.severity * 100) / 100 },
      { client: 'a', fromMs: NOW - 25 * MIN, toMs: NOW - 5 * MIN, results: 3, severity: 0.7, clients: ['a'], ongoing: true },
    );
    assert.equal(s3.clients[0]!.episodes, 1);
    // Below the analyser's baseline sample count nobody is judged.
    const few = steady.slice(-5).map((p, i) => (i >= 2 ? { ...p, mbps: 10, downloadMs: 8002 } : p));
    const sFew = buildSummary(few, metas(few), NOW, WINDOW);
    assert.equal(sFew.clients[0]!.baselineMbps, null);
    assert.equal(sFew.clients[0]!.status, 'ok');
  });

  test('network-wide: clients in episodes together (at least two, and half of those active)', () => {
    const dip = (typical: number) => (ago: number) => (ago <= 2 * HOUR && ago >= 90 * MIN ? typical * 0.3 : typical);
    const points = [...series('a', dip(1000)), ...series('b', dip(200)), ...series('c', () => 50), ...series('d', () => 80)];
    const summary = buildSummary(points, metas(points), NOW, WINDOW);
    const network = summary.episodes.filter((e) => e.client === null);
    assert.equal(network.length, 1);
    // a and b were degraded at 115, 105 and 95 minutes ago: their episodes overlap over those 20 minutes.
    assert.deepEqual([network[0]!.fromMs, network[0]!.toMs, network[0]!.clients], [NOW - 115 * MIN, NOW - 95 * MIN, ['a', 'b']]);
    assert.equal(network[0]!.ongoing, false);
    // One client alone is not the network.
    const alone = [...series('a', dip(1000)), ...series('c', () => 50)];
    assert.deepEqual(
      buildSummary(alone, metas(alone), NOW, WINDOW).episodes.filter((e) => e.client === null),
      [],
    );
  });

  test("busiest and most congested hour: the analyser's, in the dashboard's time zone, for the window it names", () => {
    const points = ['a', 'b', 'c'].flatMap((c) => series(c, (ago) => (ago > 2 * HOUR && ago <= 3 * HOUR ? 40 : 100)));
    // Two extra downloads a client in 13:00–14:00 UTC (18:30–19:30 in Kolkata).
    for (const c of ['a', 'b', 'c']) points.push(pt(c, 4.5 * HOUR + MIN, 100), pt(c, 4.5 * HOUR + 2 * MIN, 100));
    const utc = buildSummary(points, metas(points), NOW, WINDOW);
    assert.deepEqual(utc.window, { fromMs: NOW - WINDOW, toMs: NOW, timeZone: 'UTC' });
    assert.equal(utc.busiestHour.hour, 13);
    assert.equal(utc.mostCongestedHour.hour, 15);
    const kolkata = buildSummary(points, metas(points), NOW, WINDOW, { timeZone: 'Asia/Kolkata' });
    assert.equal(kolkata.window.timeZone, 'Asia/Kolkata');
    assert.equal(kolkata.busiestHour.hour, 18);
  });
});

describe('summary', () => {
  test('statuses and alerts: silent, failing, congested, network-wide', () => {
    const points = [
      ...series('ok', () => 500),
      ...series('slow-now', (ago) => (ago < 15 * MIN ? 100 : 500)),
      ...series('broken', () => 300).slice(0, -1),
      pt('broken', 0, null, 'NETPROBE_CONNECT_TIMEOUT'),
      ...series('gone', () => 200).filter((p) => p.t < NOW - 2 * HOUR),
    ];
    const summary = buildSummary(points, metas(points), NOW, WINDOW);
    const status = Object.fromEntries(summary.clients.map((c) => [c.client, c.status]));
    assert.deepEqual(status, { gone: 'silent', broken: 'failing', 'slow-now': 'congested', ok: 'ok' });
    assert.deepEqual(
      summary.clients.map((c) => c.client),
      ['gone', 'broken', 'slow-now', 'ok'],
      'problems first',
    );
    assert.deepEqual(
      summary.alerts.map((a) => `${a.kind}:${a.client}`),
      ['silent:gone', 'failing:broken', 'congestion:slow-now'],
    );
    assert.match(summary.alerts[2]!.message, /20% of its baseline 500 Mbit\/s/);
    assert.equal(summary.recentRatio, 1);
  });

  test('silence follows each client’s own interval', () => {
    assert.equal(silentAfterMs([pt('a', 0, 1)]), 30 * MIN);
    assert.equal(silentAfterMs([pt('a', 20 * MIN, 1), pt('a', 10 * MIN, 1), pt('a', 0, 1)]), 30 * MIN);
    assert.equal(silentAfterMs([pt('a', 2 * MIN, 1), pt('a', MIN, 1), pt('a', 0, 1)]), 5 * MIN);
  });

  test('a network-wide episode in progress is a critical alert', () => {
    const dipNow = (typical: number) => (ago: number) => (ago < 30 * MIN ? typical * 0.2 : typical);
    const points = ['a', 'b', 'c'].flatMap((c, i) => series(c, dipNow(100 * (i + 1))));
    const summary = buildSummary(points, metas(points), NOW, WINDOW);
    assert.equal(summary.alerts[0]?.kind, 'network-congestion');
    assert.equal(summary.alerts[0]?.severity, 'critical');
    assert.match(summary.alerts[0]!.message, /3 of 3 clients/);
    assert.ok(summary.recentRatio! < 0.5);
  });
});
