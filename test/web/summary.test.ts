import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Point } from '../../src/web/api-types.js';
import { busiestHour, clientEpisodes, median, networkEpisodes, referenceMedian } from '../../src/web/congestion.js';
import { type ClientMeta, buildSummary, silentAfterMs } from '../../src/web/summary.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const WINDOW = 6 * HOUR;
/** A fixed "now" on an hour boundary, so hour buckets are easy to name. */
const NOW = Date.UTC(2025, 0, 15, 18, 0, 0);

let seq = 0;
function pt(client: string, agoMs: number, mbps: number | null, error: string | null = null): Point {
  return { id: `id-${seq++}`, client, t: NOW - agoMs, mbps: error ? null : mbps, responseMs: 2, error };
}

/** One result every 10 minutes over the window, `rate(agoMs)` Mbit/s. */
function series(client: string, rate: (agoMs: number) => number): Point[] {
  const out: Point[] = [];
  for (let ago = WINDOW - 5 * MIN; ago >= 0; ago -= 10 * MIN) out.push(pt(client, ago, rate(ago)));
  return out;
}

function byClientOf(points: readonly Point[]): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const p of points) out.set(p.client, [...(out.get(p.client) ?? []), p]);
  return out;
}

function metas(points: readonly Point[]): Map<string, ClientMeta> {
  const m = new Map<string, ClientMeta>();
  for (const p of points) {
    const cur = m.get(p.client);
    if (!cur || p.t >= cur.lastStartedMs) {
      m.set(p.client, { lastSeenMs: p.t + 100, lastStartedMs: p.t, lastMbps: p.mbps, lastResponseMs: p.responseMs, lastError: p.error });
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

  test('a median needs three successful results', () => {
    assert.equal(referenceMedian([pt('a', 0, 100), pt('a', 1, 50)]), null);
    assert.equal(referenceMedian([pt('a', 0, 100), pt('a', 1, 50), pt('a', 2, null, 'X'), pt('a', 3, 70)]), 70);
  });

  test('consecutive results below half the median form one episode; failures do not break it', () => {
    const points = [pt('a', 60 * MIN, 100), pt('a', 50 * MIN, 40), pt('a', 40 * MIN, null, 'E'), pt('a', 30 * MIN, 45),
      pt('a', 20 * MIN, 100), pt('a', 10 * MIN, 49), pt('a', 0, 30)];
    const episodes = clientEpisodes('a', points, 100);
    assert.equal(episodes.length, 2);
    assert.deepEqual(episodes[0], { client: 'a', fromMs: NOW - 50 * MIN, toMs: NOW - 30 * MIN, results: 2, worstRatio: 0.4, ongoing: false });
    assert.deepEqual(episodes[1], { client: 'a', fromMs: NOW - 10 * MIN, toMs: NOW, results: 2, worstRatio: 0.3, ongoing: true });
    assert.deepEqual(clientEpisodes('a', points, null), []);
    assert.deepEqual(clientEpisodes('a', [pt('a', 0, 50)], 100), [], 'exactly half is not below half');
  });

  test('network-wide: at least two clients and half of those measuring', () => {
    const dip = (typical: number) => (ago: number) => (ago <= 2 * HOUR && ago >= 90 * MIN ? typical * 0.3 : typical);
    const points = [...series('a', dip(1000)), ...series('b', dip(200)), ...series('c', () => 50), ...series('d', () => 80)];
    const byClient = byClientOf(points);
    const medians = new Map([...byClient].map(([c, ps]) => [c, referenceMedian(ps)]));
    const episodes = networkEpisodes(byClient, medians, NOW, WINDOW);
    assert.equal(episodes.length, 1);
    // The dipped results started 115, 105 and 95 minutes ago; the episode spans their 5-minute buckets.
    assert.deepEqual([episodes[0]!.fromMs, episodes[0]!.toMs], [NOW - 115 * MIN, NOW - 90 * MIN]);
    assert.equal(episodes[0]!.worstRatio, 0.3);
    assert.equal(episodes[0]!.ongoing, false);
    // One client alone is not the network.
    const alone = [...series('a', dip(1000)), ...series('c', () => 50)];
    const g = byClientOf(alone);
    assert.deepEqual(networkEpisodes(g, new Map([...g].map(([c, ps]) => [c, referenceMedian(ps)])), NOW, WINDOW), []);
  });

  test('busiest hour: the most downloads; a tie goes to the hour furthest below the clients’ medians', () => {
    const slowAt = (h: number) => (ago: number) => (ago > h * HOUR && ago <= (h + 1) * HOUR ? 0.4 : 1);
    const points = [...series('fast', (ago) => 1000 * slowAt(2)(ago)), ...series('slow', (ago) => 10 * slowAt(2)(ago))];
    const medians = new Map([['fast', 1000], ['slow', 10]]);
    const tie = busiestHour(points, medians);
    assert.equal(tie?.startMs, NOW - 3 * HOUR);
    assert.ok(Math.abs(tie.ratio! - 0.4) < 1e-9);
    assert.equal(tie.results, 12);
    // Three more downloads (one failed) make 14:00–15:00 the busiest, congested or not.
    const extra = [pt('fast', 3.5 * HOUR + MIN, 1000), pt('slow', 3.5 * HOUR + 2 * MIN, 10), pt('slow', 3.5 * HOUR + 3 * MIN, null, 'E')];
    const busiest = busiestHour([...points, ...extra], medians);
    assert.equal(busiest?.startMs, NOW - 4 * HOUR);
    assert.equal(busiest.results, 15);
    assert.equal(busiest.ratio, 1);
    assert.equal(busiestHour([], medians), null);
  });
});

describe('summary', () => {
  test('statuses and alerts: silent, failing, congested, network-wide', () => {
    const points = [
      ...series('ok', () => 500),
      ...series('slow-now', (ago) => (ago < 15 * MIN ? 100 : 500)),
      ...series('broken', () => 300).slice(0, -1), pt('broken', 0, null, 'NETPROBE_CONNECT_TIMEOUT'),
      ...series('gone', () => 200).filter((p) => p.t < NOW - 2 * HOUR),
    ];
    const summary = buildSummary(points, metas(points), NOW, WINDOW);
    const status = Object.fromEntries(summary.clients.map((c) => [c.client, c.status]));
    assert.deepEqual(status, { gone: 'silent', broken: 'failing', 'slow-now': 'congested', ok: 'ok' });
    assert.deepEqual(summary.clients.map((c) => c.client), ['gone', 'broken', 'slow-now', 'ok'], 'problems first');
    assert.deepEqual(summary.alerts.map((a) => `${a.kind}:${a.client}`), ['silent:gone', 'failing:broken', 'congestion:slow-now']);
    assert.match(summary.alerts[2]!.message, /20% of its median 500 Mbit\/s/);
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
