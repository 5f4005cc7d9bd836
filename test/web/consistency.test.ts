/**
 * One rule in one place: for the same store, window and time zone, the live dashboard's JSON API,
 * the report's summary.json and `netprobe analyse --json` name the same busiest hour, the same most
 * congested hour and the same congestion episodes (per client and network-wide); for downloads and,
 * with `?direction=upload`, `--direction upload` and the report's upload analysis, for uploads, whose
 * seeded picture differs (so a dashboard that mixed them, or ignored the direction, disagrees).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkTimeZone } from '../../src/analysis/timezone.js';
import type { AnalysisSummary } from '../../src/analysis/types.js';
import { writeReport } from '../../src/report/report.js';
import { startServerWithDashboard } from '../../src/cli/serve.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Snapshot } from '../../src/web/api-types.js';
import { runAnalyse } from '../analysis/helpers/cli.js';
import { makePki } from '../helpers/pki.js';
import { random, stored } from '../report/helpers.js';
import { bearer, request } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
/** The dashboard's "now": 12:00 UTC, 17:30 in Kolkata (a half-hour zone, so UTC hours would differ). */
const NOW = Date.UTC(2026, 2, 10, 12, 0, 0);
const WINDOW_MS = 6 * HOUR;
const ZONE = 'Asia/Kolkata';
const TYPICAL: Record<string, number> = { alice: 100, bob: 200, carol: 50, dave: 400 };

/**
 * Four clients every 5 minutes over the window. Alice and Bob measure twice as often from 08:30 to
 * 09:30 UTC (14:00 in Kolkata: the busiest hour). Alice, Bob and Carol fall to 30 % from 09:35 to
 * 10:10 UTC (together: a network-wide episode); Dave alone from 07:00 to 07:20. Carol fails once.
 */
function seeded() {
  const rand = random(16);
  const rows = [];
  for (const [client, typical] of Object.entries(TYPICAL)) {
    const starts: number[] = [];
    for (let at = NOW - WINDOW_MS + 2 * MIN; at < NOW; at += 5 * MIN) starts.push(at);
    if (client === 'alice' || client === 'bob') {
      for (let at = Date.UTC(2026, 2, 10, 8, 30) + 4.5 * MIN; at < Date.UTC(2026, 2, 10, 9, 30); at += 5 * MIN) starts.push(at);
    }
    starts.sort((a, b) => a - b);
    for (const at of starts) {
      const dip =
        (client !== 'dave' && at >= Date.UTC(2026, 2, 10, 9, 35) && at <= Date.UTC(2026, 2, 10, 10, 10)) ||
        (client === 'dave' && at >= Date.UTC(2026, 2, 10, 7, 0) && at <= Date.UTC(2026, 2, 10, 7, 20));
      const mbps = Math.round(typical * (dip ? 0.3 : 1) * (1 + 0.06 * (rand() * 2 - 1)) * 10) / 10;
      rows.push(stored({ client, at, mbps, failed: client === 'carol' && at === NOW - 3 * HOUR + 2 * MIN }));
    }
  }
  return rows;
}

const UPLOAD_TYPICAL: Record<string, number> = { alice: 20, bob: 40, carol: 10 };

/**
 * Uploads of three clients every 5 minutes: Alice and Bob twice as often from 06:30 to 07:30 UTC
 * (12:00 in Kolkata: the busiest upload hour); all three fall to 30 % from 10:35 to 11:10 UTC
 * (16:05 in Kolkata: a network-wide upload episode).
 */
function seededUploads() {
  const rand = random(23);
  const rows = [];
  for (const [client, typical] of Object.entries(UPLOAD_TYPICAL)) {
    const starts: number[] = [];
    for (let at = NOW - WINDOW_MS + 3 * MIN; at < NOW; at += 5 * MIN) starts.push(at);
    if (client !== 'carol') {
      for (let at = Date.UTC(2026, 2, 10, 6, 30) + 4.5 * MIN; at < Date.UTC(2026, 2, 10, 7, 30); at += 5 * MIN) starts.push(at);
    }
    starts.sort((a, b) => a - b);
    for (const at of starts) {
      const dip = at >= Date.UTC(2026, 2, 10, 10, 35) && at <= Date.UTC(2026, 2, 10, 11, 10);
      const mbps = Math.round(typical * (dip ? 0.3 : 1) * (1 + 0.06 * (rand() * 2 - 1)) * 10) / 10;
      rows.push(stored({ client, at, mbps, overrides: { direction: 'upload' } }));
    }
  }
  return rows;
}

interface Named {
  busiestHour: number | null;
  mostCongestedHour: number | null;
  episodes: Record<string, string[]>;
  network: string[];
}

const span = (fromMs: number, toMs: number) => `${new Date(fromMs).toISOString()}/${new Date(toMs).toISOString()}`;

function fromAnalysis(s: AnalysisSummary): Named {
  const episodes: Record<string, string[]> = {};
  for (const c of s.clients) episodes[c.client] = [];
  for (const e of s.episodes) episodes[e.client]!.push(span(Date.parse(e.start), Date.parse(e.end)));
  return {
    busiestHour: s.busiestHour.hour,
    mostCongestedHour: s.mostCongestedHour.hour,
    episodes,
    network: s.networkEpisodes.map((e) => `${span(Date.parse(e.start), Date.parse(e.end))} ${e.clients.join(',')}`),
  };
}

function fromDashboard(snapshot: Snapshot): Named {
  const s = snapshot.summary;
  const episodes: Record<string, string[]> = {};
  for (const c of s.clients) episodes[c.client] = [];
  for (const e of s.episodes) if (e.client !== null) episodes[e.client]!.push(span(e.fromMs, e.toMs));
  return {
    busiestHour: s.busiestHour.hour,
    mostCongestedHour: s.mostCongestedHour.hour,
    episodes,
    network: s.episodes.filter((e) => e.client === null).map((e) => `${span(e.fromMs, e.toMs)} ${e.clients.join(',')}`),
  };
}

test('the dashboard, the report and analyse --json agree on hours and episodes for the same window and zone, per direction', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'netprobe-consistency-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const storePath = join(work, 'results.db');
  const seed = new SqliteStore(storePath);
  await seed.insertResults([seeded(), seededUploads()]);
  await seed.close();

  const pki = await makePki(Object.keys(TYPICAL));
  t.after(() => pki.cleanup());
  const server = await startServerWithDashboard(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: storePath,
      builtinFiles: ['64KiB'],
      statsIntervalMs: 0,
      http: '127.0.0.1:0',
      httpTimeZone: ZONE,
      logLevel: 'silent',
    },
    { now: () => NOW },
  );
  t.after(() => server.close());
  const store = new SqliteStore(storePath, { readonly: true });
  t.after(() => store.close());

  const sideways = await request(`${server.web!.url}api/snapshot?direction=sideways`, { headers: bearer(server.web!.token) });
  assert.equal(sideways.status, 400, sideways.body);
  assert.match(sideways.body, /direction must be download or upload/);

  const views: Record<'download' | 'upload', { analysed: Named; dashboard: Named; clients: string[] }> = {} as never;
  for (const direction of ['download', 'upload'] as const) {
    const query = direction === 'download' ? '' : '?direction=upload';
    const reply = await request(`${server.web!.url}api/snapshot${query}`, { headers: bearer(server.web!.token) });
    assert.equal(reply.status, 200, reply.body);
    const snapshot = JSON.parse(reply.body) as Snapshot;
    assert.equal(snapshot.summary.direction, direction);
    assert.ok(snapshot.points.length > 0 && snapshot.points.every((p) => (p.direction ?? 'download') === direction), direction);
    // The live view says which window and zone its rules looked at.
    // (ICU's canonical name, as analyse --json echoes it: Asia/Kolkata may come back as Asia/Calcutta.)
    assert.deepEqual(snapshot.summary.window, { fromMs: NOW - WINDOW_MS, toMs: NOW, timeZone: checkTimeZone(ZONE) });

    const since = new Date(snapshot.summary.window.fromMs).toISOString();
    const until = new Date(snapshot.summary.window.toMs + 1).toISOString();
    const cli = await runAnalyse([
      '--store',
      storePath,
      '--since',
      since,
      '--until',
      until,
      '--tz',
      ZONE,
      '--direction',
      direction,
      '--json',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const analysed = fromAnalysis(JSON.parse(cli.stdout) as AnalysisSummary);

    const outDir = join(work, `report-${direction}`);
    await writeReport(store, { outDir, sinceMs: Date.parse(since), untilMs: Date.parse(until), timeZone: ZONE, direction });
    const reported = fromAnalysis(JSON.parse(await readFile(join(outDir, 'summary.json'), 'utf8')) as AnalysisSummary);
    const dashboard = fromDashboard(snapshot);

    // The three places name the same things…
    assert.deepEqual(reported, analysed, `${direction}: report summary.json = analyse --json`);
    assert.deepEqual(dashboard, analysed, `${direction}: dashboard /api/snapshot = analyse --json`);
    // Each client row counts its own episodes by the same rule.
    for (const row of snapshot.summary.clients)
      assert.equal(row.episodes, analysed.episodes[row.client]!.length, `${direction}: ${row.client}`);
    views[direction] = { analysed, dashboard, clients: snapshot.summary.clients.map((c) => c.client).sort() };
  }

  // …and the seeded pictures are there (so agreement is not agreement on nothing), each its own.
  const down = views.download.analysed;
  assert.equal(down.busiestHour, 14);
  assert.equal(down.mostCongestedHour, 15);
  assert.equal(down.episodes.alice!.length, 1);
  assert.equal(down.episodes.dave!.length, 1);
  assert.equal(down.network.length, 1);
  assert.deepEqual(views.download.clients, ['alice', 'bob', 'carol', 'dave']);
  const up = views.upload.analysed;
  assert.equal(up.busiestHour, 12);
  assert.equal(up.mostCongestedHour, 16);
  assert.equal(up.network.length, 1);
  assert.deepEqual(views.upload.clients, ['alice', 'bob', 'carol']);
});
