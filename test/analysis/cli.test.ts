import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AnalysisSummary } from '../../src/analysis/types.js';
import { runAnalyse } from './helpers/cli.js';
import { HOUR, MIN, T0, schedule, storeWith } from './helpers/dataset.js';

/** Four clients every 5 minutes for 3 hours; a, b, c slow together at minutes 60–92, the server busy then. */
const fleet = ['a', 'b', 'c', 'd'].flatMap((client, k) =>
  schedule(client, T0 + k * MIN, 5 * MIN, 37, (i, time) => {
    const minute = (time - T0) / MIN;
    const rush = minute >= 60 && minute <= 92;
    return { mbps: k < 3 && rush ? 20 : 100 + k + (i % 5), serverConcurrentTransfers: rush ? 10 : 1 };
  }),
);

/** The rows of the table that follows `title` in the text output. */
function tableAfter(text: string, title: string): string[][] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  assert.ok(start >= 0, `no table '${title}'`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 3)) {
    if (line.trim() === '') break;
    rows.push(line.split(/ {2,}/).map((cell) => cell.trim()));
  }
  return rows;
}

const localToIso = (text: string) => new Date(Date.parse(text.replace(' ', 'T'))).toISOString();

describe('netprobe analyse (CLI)', () => {
  test('the table and the JSON give the same answers', async (t) => {
    const store = await storeWith(t, fleet);
    const json = await runAnalyse(['--store', store.path, '--tz', 'Europe/Berlin', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(json.stdout) as AnalysisSummary;
    const table = await runAnalyse(['--store', store.path, '--tz', 'Europe/Berlin']);
    assert.equal(table.code, 0, table.stderr);
    const text = table.stdout;

    assert.match(text, new RegExp(`^4 clients, ${s.totals.downloads} downloads, 0 failed`, 'm'));
    const throughput = tableAfter(text, 'Throughput per client (Mbit/s)');
    assert.deepEqual(
      throughput.map((r) => [r[0], Number(r[1]), r[4], r[7], r[9]]),
      s.clients.map((c) => [
        c.client,
        c.downloads.total,
        c.throughputMbps.mean!.toFixed(2),
        c.throughputMbps.median!.toFixed(2),
        c.throughputMbps.p95!.toFixed(2),
      ]),
    );
    const busiest = /^Busiest hour: (\d\d):00.*\(confidence ([a-z-]+): /m.exec(text)!;
    assert.deepEqual([Number(busiest[1]), busiest[2]], [s.busiestHour.hour, s.busiestHour.confidence]);
    const congested = /^Most congested hour: (\d\d):00, ([\d.]+)% of baseline \(confidence ([a-z-]+): /m.exec(text)!;
    assert.deepEqual(
      [Number(congested[1]), congested[2], congested[3]],
      [s.mostCongestedHour.hour, (s.mostCongestedHour.relativeThroughput! * 100).toFixed(1), s.mostCongestedHour.confidence],
    );
    const hours = tableAfter(text, 'Hour of day (Europe/Berlin)');
    assert.deepEqual(
      hours.map((r) => Number(r[1])),
      s.hourOfDay.map((h) => h.downloads),
    );
    const episodes = tableAfter(text, 'Congestion episodes');
    assert.deepEqual(
      episodes.map((r) => [r[0], localToIso(r[1]!), localToIso(r[2]!), r[8], r[10]]),
      s.episodes.map((e) => [e.client, e.start, e.end, e.networkWide ? 'yes' : 'no', e.likelyCause]),
    );
    const network = tableAfter(text, 'Network-wide episodes');
    assert.deepEqual(
      network.map((r) => [localToIso(r[0]!), localToIso(r[1]!), r[3]]),
      s.networkEpisodes.map((n) => [n.start, n.end, n.clients.join(',')]),
    );
    assert.equal(s.networkEpisodes.length, 1);
    assert.equal(episodes.length, 3);
  });

  test('JSON is deterministic: same bytes every run, keys sorted', async (t) => {
    const store = await storeWith(t, fleet);
    const first = await runAnalyse(['--store', store.path, '--json']);
    const second = await runAnalyse(['--store', store.path, '--json']);
    assert.equal(first.stdout, second.stdout);
    const keysSorted = (v: unknown): boolean =>
      Array.isArray(v)
        ? v.every(keysSorted)
        : v !== null && typeof v === 'object'
          ? Object.keys(v).every((k, i, all) => i === 0 || all[i - 1]! < k) && Object.values(v).every(keysSorted)
          : true;
    assert.ok(keysSorted(JSON.parse(first.stdout)));
  });

  test('CSV tables carry the JSON values', async (t) => {
    const store = await storeWith(t, fleet);
    const s = JSON.parse((await runAnalyse(['--store', store.path, '--json'])).stdout) as AnalysisSummary;
    const csv = await runAnalyse(['--store', store.path, '--csv']);
    const [header, ...rows] = csv.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    const col = (name: string) => header!.indexOf(name);
    assert.deepEqual(
      rows.map((r) => [r[col('client')], Number(r[col('throughputMbps.mean')]), Number(r[col('episodes')])]),
      s.clients.map((c) => [c.client, c.throughputMbps.mean, c.episodes]),
    );
    const network = (await runAnalyse(['--store', store.path, '--csv', 'network-episodes'])).stdout.trimEnd().split('\n');
    assert.equal(network.length, 2);
    assert.match(network[1]!, new RegExp(`^${s.networkEpisodes[0]!.start},.*,a;b;c,`));
    const hours = (await runAnalyse(['--store', store.path, '--csv', 'hours'])).stdout.trimEnd().split('\n');
    assert.equal(hours.length, 25);
  });

  test('an empty store still prints every section; CSV quotes what needs quoting', async (t) => {
    const empty = await storeWith(t, []);
    const table = await runAnalyse(['--store', empty.path]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^0 clients, 0 downloads/m);
    assert.match(table.stdout, /^No results in the window\.$/m);
    assert.match(table.stdout, /^Busiest hour: - \(confidence insufficient-data: 0 downloads; at least 50 are needed/m);
    assert.match(table.stdout, /^Congestion episodes\n\(none\)$/m);
    assert.equal((await runAnalyse(['--store', empty.path, '--csv'])).stdout.split('\n').length, 2); // header only
    const odd = await storeWith(t, [{ client: 'lab, "rack" 2', at: T0 }]);
    const csv = (await runAnalyse(['--store', odd.path, '--csv'])).stdout.split('\n');
    assert.match(csv[1]!, /^"lab, ""rack"" 2",1,1,0,0,100,/);
  });

  test('--since as a duration counts back from now; --client narrows', async (t) => {
    const store = await storeWith(t, fleet);
    const run = await runAnalyse(['--store', store.path, '--since', '1h', '--client', 'a,b', '--json'], () => T0 + 3 * HOUR);
    const s = JSON.parse(run.stdout) as AnalysisSummary;
    assert.equal(s.window.since, new Date(T0 + 2 * HOUR).toISOString());
    assert.deepEqual(
      s.clients.map((c) => [c.client, c.downloads.total]),
      [
        ['a', 13],
        ['b', 13],
      ],
    );
  });

  test('bad option values exit with status 2 and say what is wrong', async (t) => {
    const store = await storeWith(t, fleet);
    const cases: [string[], RegExp][] = [
      [['--tz', 'Mars/Base'], /unknown time zone 'Mars\/Base'/],
      [['--since', 'yesterday'], /--since 'yesterday' is neither a time/],
      [['--since', '2025-01-02', '--until', '2025-01-01'], /--since \(2025-01-02T00:00:00.000Z\) must be before --until/],
      [['--threshold', 'nope=1'], /unknown threshold 'nope'/],
      [['--threshold', 'gapFactor'], /'gapFactor' is not name=value/],
      [['--threshold', 'gapFactor=0.5'], /threshold gapFactor=0.5: /],
      [['--threshold', 'minEpisodeMs=soon'], /minEpisodeMs: 'soon' is not a duration/],
      [['--threshold', 'minEpisodeMs=15'], /minEpisodeMs: '15' needs a unit: 15d, 15h, 15m, 15s or 15ms/],
      [['--since', '7'], /--since: '7' needs a unit: 7d, 7h, 7m, 7s or 7ms/],
      [['--json', '--csv'], /choose one of --json and --csv/],
      [['--csv', 'nonsense'], /unknown CSV table 'nonsense'/],
      [['--bucket', '10'], /bucket: '10' needs a unit/],
      [['--bucket', '10ms'], /bucket must be 'auto' or at least 1s/],
      [['--frobnicate'], /unknown option '--frobnicate'/],
    ];
    for (const [args, message] of cases) {
      const run = await runAnalyse(['--store', store.path, ...args]);
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, message, args.join(' '));
      assert.equal(run.stdout, '');
    }
    const missing = await runAnalyse(['--store', '/nonexistent/netprobe.db']);
    assert.deepEqual([missing.code, /store '\/nonexistent\/netprobe.db' does not exist/.test(missing.stderr)], [2, true]);
    // A PostgreSQL store that cannot be reached is a storage failure (1); the password is never shown.
    const postgres = await runAnalyse(['--store', 'postgres://user:secret@127.0.0.1:1/netprobe']);
    assert.equal(postgres.code, 1);
    assert.match(postgres.stderr, /postgres:\/\/user:\*\*\*@127\.0\.0\.1:1\/netprobe.*NETPROBE_STORAGE/);
    assert.doesNotMatch(postgres.stderr, /secret/);
  });

  test('thresholds from the command line reach the analysis', async (t) => {
    const store = await storeWith(t, fleet);
    const run = await runAnalyse(['--store', store.path, '--json', '--threshold', 'minEpisodeMs=45m', '--threshold', 'networkShare=90%']);
    const s = JSON.parse(run.stdout) as AnalysisSummary;
    assert.deepEqual([s.thresholds.minEpisodeMs, s.thresholds.networkShare, s.episodes.length], [45 * MIN, 0.9, 0]);
  });
});
