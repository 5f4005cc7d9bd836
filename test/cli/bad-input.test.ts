/**
 * Mistaken command lines and config files. For each: a non-zero exit, exactly one line on stderr
 * with no stack trace, and nothing written or deleted (the store keeps its rows, no file appears,
 * changes or goes). Rows marked `spawn` run the built CLI as a child process: those that reach past
 * the options (a store, a file, a terminal, the environment). The others are refused while the
 * options are read, and run in this process through `runCli`, the function bin/netprobe runs
 * (a spawn costs ~0.7 s of CPU each; in-process rows take milliseconds).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../src/cli/program.js';
import { Outbox } from '../../src/client/outbox.js';
import { openStore } from '../../src/store/open.js';
import { T0, schedule, stored } from '../analysis/helpers/dataset.js';
import { makePki } from '../helpers/pki.js';
import { netprobe, snapshot, tempDir } from './helpers.js';

interface Case {
  name: string;
  args: (p: Paths) => string[];
  env?: NodeJS.ProcessEnv;
  /** Config files written before the run, relative to the work folder. */
  files?: Record<string, string>;
  stderr: RegExp;
  /** Run as a child process (the row needs more than the options: a store, a file, stdin, the environment). */
  spawn?: true;
}

interface Paths {
  dir: string;
  store: string;
  ca: string;
  cert: string;
  key: string;
  serverCert: string;
  serverKey: string;
}

const client = (p: Paths) => [
  'client',
  '--server',
  '127.0.0.1:1',
  '--ca',
  p.ca,
  '--cert',
  p.cert,
  '--key',
  p.key,
  '--outbox',
  join(p.dir, 'outbox.db'),
];
const server = (p: Paths) => [
  'server',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--ca',
  p.ca,
  '--cert',
  p.serverCert,
  '--key',
  p.serverKey,
  '--store',
  join(p.dir, 'server.db'),
];
const cfg = (p: Paths, name: string) => join(p.dir, name);

const CASES: Case[] = [
  {
    name: 'prune, duration without unit',
    args: (p) => ['store', 'prune', '--older-than', '90', '--store', p.store, '--yes'],
    stderr: /--older-than: '90' needs a unit: 90d, 90h, 90m, 90s or 90ms/,
  },
  {
    name: 'prune without --yes and no terminal',
    args: (p) => ['store', 'prune', '--older-than', '90d', '--store', p.store],
    stderr: /add --yes to confirm/,
    spawn: true,
  },
  {
    name: 'prune, not a duration',
    args: (p) => ['store', 'prune', '--older-than', 'soon', '--store', p.store, '--yes'],
    stderr: /--older-than: 'soon' is not a duration/,
  },
  {
    name: 'prune, zero age',
    args: (p) => ['store', 'prune', '--older-than', '0s', '--store', p.store, '--yes'],
    stderr: /--older-than: '0s' is too short/,
  },
  { name: 'prune without --older-than', args: (p) => ['store', 'prune', '--store', p.store, '--yes'], stderr: /missing --older-than/ },
  {
    name: 'prune, missing store',
    args: (p) => ['store', 'prune', '--older-than', '90d', '--store', join(p.dir, 'nope.db'), '--yes'],
    stderr: /store '.*nope\.db' does not exist/,
    spawn: true,
  },
  { name: 'migrate without --to', args: (p) => ['store', 'migrate', '--from', p.store], stderr: /missing --to/ },
  {
    name: 'migrate onto itself',
    args: (p) => ['store', 'migrate', '--from', p.store, '--to', p.store],
    stderr: /--from and --to are the same store/,
    spawn: true,
  },
  {
    name: 'migrate, batch 0',
    args: (p) => ['store', 'migrate', '--from', p.store, '--to', join(p.dir, 'x.db'), '--batch', '0'],
    stderr: /--batch: '0' is out of range: 1 to 100000/,
  },
  {
    name: 'client, interval without unit',
    args: (p) => [...client(p), '--interval', '60', '--count', '5'],
    stderr: /--interval: '60' needs a unit: 60d/,
  },
  { name: 'client, interval 0', args: (p) => [...client(p), '--interval', '0'], stderr: /--interval: '0' is too short: at least 1ms/ },
  { name: 'client, jitter 150%', args: (p) => [...client(p), '--jitter', '150%'], stderr: /--jitter: '150%' must be between 0 and 1/ },
  {
    name: 'client, duration above 10m',
    args: (p) => [...client(p), '--duration', '20m'],
    stderr: /--duration: '20m' is too long: at most 10m/,
  },
  { name: 'client, nothing given', args: () => ['client'], stderr: /missing --server, --cert, --key/ },
  {
    name: 'client, unknown schedule',
    args: (p) => [...client(p), '--schedule', 'weekly'],
    stderr: /--schedule: 'weekly' is not one of interval, poisson, cron/,
  },
  { name: 'client, count 0', args: (p) => [...client(p), '--count', '0'], stderr: /--count: '0' is out of range: at least 1/ },
  { name: 'client, TLS 1.1', args: (p) => [...client(p), '--tls-min', '1.1'], stderr: /--tls-min: '1.1' is not one of/ },
  {
    name: 'client, batch size above the protocol limit',
    args: (p) => [...client(p), '--batch-size', '5000'],
    stderr: /--batch-size: '5000' is out of range: 1 to 1000/,
  },
  {
    name: 'client, NETPROBE_INTERVAL without unit',
    args: client,
    env: { NETPROBE_INTERVAL: '5' },
    stderr: /NETPROBE_INTERVAL: '5' needs a unit: 5d, 5h, 5m, 5s or 5ms/,
    spawn: true,
  },
  {
    name: 'client, NETPROBE_COUNT not a number',
    args: client,
    env: { NETPROBE_COUNT: 'many' },
    stderr: /NETPROBE_COUNT: 'many' is not a whole number/,
    spawn: true,
  },
  {
    name: 'client config, interval without unit',
    args: (p) => [...client(p), '--config', cfg(p, 'c1.yaml')],
    files: { 'c1.yaml': 'interval: 60\n' },
    stderr: /c1\.yaml: interval: '60' needs a unit/,
  },
  {
    name: 'client config, unknown key',
    args: (p) => [...client(p), '--config', cfg(p, 'c2.yaml')],
    files: { 'c2.yaml': 'intervall: 60s\n' },
    stderr: /c2\.yaml: unknown key 'intervall' \(did you mean 'interval'\?\)/,
  },
  {
    name: 'client config, not YAML',
    args: (p) => [...client(p), '--config', cfg(p, 'c3.yaml')],
    files: { 'c3.yaml': 'server: [a\n  - b: :\n' },
    stderr: /c3\.yaml is not valid YAML/,
  },
  {
    name: 'client config, not JSON',
    args: (p) => [...client(p), '--config', cfg(p, 'c4.json')],
    files: { 'c4.json': '{"interval": "60s",}' },
    stderr: /c4\.json is not valid JSON/,
  },
  {
    name: 'client config, a list at the top',
    args: (p) => [...client(p), '--config', cfg(p, 'c5.yaml')],
    files: { 'c5.yaml': '- interval: 60s\n' },
    stderr: /must hold an object/,
  },
  {
    name: 'client config, missing file',
    args: (p) => [...client(p), '--config', cfg(p, 'absent.yaml')],
    stderr: /cannot read config file .*absent\.yaml/,
  },
  {
    name: 'client config, list where one value goes',
    args: (p) => [...client(p), '--config', cfg(p, 'c6.yaml')],
    files: { 'c6.yaml': 'interval: [1s, 2s]\n' },
    stderr: /c6\.yaml: interval: expected a single value, got a list/,
  },
  {
    name: 'server, port out of range',
    args: (p) => [...server(p), '--port', '70000'],
    stderr: /--port: '70000' is out of range: 0 to 65535/,
  },
  {
    name: 'server, stats interval without unit',
    args: (p) => [...server(p), '--stats-interval', '60'],
    stderr: /--stats-interval: '60' needs a unit/,
  },
  {
    name: 'server, frame size without unit',
    args: (p) => [...server(p), '--max-frame-size', '4096'],
    stderr: /--max-frame-size: '4096' needs a unit: 4096B, 4096KiB, 4096MiB/,
  },
  {
    name: 'server, frame size too large',
    args: (p) => [...server(p), '--max-frame-size', '1GiB'],
    stderr: /--max-frame-size: '1GiB' is too large: at most 64MiB/,
  },
  {
    name: 'server, workers 0',
    args: (p) => [...server(p), '--workers', '0'],
    stderr: /--workers: '0' is not a whole number from 1 to 64, or 'auto'/,
  },
  {
    name: 'server, short dashboard token',
    args: (p) => [...server(p), '--http', '0', '--http-token', 'short'],
    stderr: /--http-token: a bearer token of 16 to 256 characters/,
  },
  {
    name: 'server config, port not a number',
    args: (p) => [...server(p).slice(0, 1), '--config', cfg(p, 's1.yaml')],
    files: { 's1.yaml': 'port: seventy\n' },
    stderr: /s1\.yaml: port: 'seventy' is not a whole number/,
  },
  {
    name: 'server config, old key with a bad value',
    args: (p) => [...server(p), '--config', cfg(p, 's2.json')],
    files: { 's2.json': '{"statsIntervalMs": "often"}' },
    stderr: /s2\.json: statsInterval: 'often' is not a duration/,
  },
  {
    name: 'server, NETPROBE_SYNCHRONOUS unknown',
    args: server,
    env: { NETPROBE_SYNCHRONOUS: 'sometimes' },
    stderr: /NETPROBE_SYNCHRONOUS: 'sometimes' is not one of full, normal/,
    spawn: true,
  },
  {
    name: 'simulate, duration without unit',
    args: (p) => ['simulate', '--duration', '180000', '--out', join(p.dir, 'sim')],
    stderr: /--duration: '180000' needs a unit/,
  },
  {
    name: 'simulate, no clients',
    args: (p) => ['simulate', '--clients', '0', '--out', join(p.dir, 'sim')],
    stderr: /--clients: '0' is out of range: 1 to 100000/,
  },
  {
    name: 'demo, span without unit',
    args: (p) => ['demo', '--span', '7', '--dir', join(p.dir, 'demo')],
    stderr: /--span: '7' needs a unit/,
  },
  {
    name: 'analyse, --since 7',
    args: (p) => ['analyse', '--store', p.store, '--since', '7'],
    stderr: /--since: '7' needs a unit: 7d, 7h, 7m, 7s or 7ms/,
  },
  {
    name: 'analyse, missing store',
    args: (p) => ['analyse', '--store', join(p.dir, 'none.db')],
    stderr: /store '.*none\.db' does not exist/,
    spawn: true,
  },
  {
    name: 'report, PNG scale 9',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'report'), '--png-scale', '9'],
    stderr: /PNG scale '9' must be a whole number from 1 to 4/,
  },
  {
    name: "analyse a client's outbox",
    args: (p) => ['analyse', '--store', join(p.dir, 'netprobe-outbox.db')],
    stderr:
      /netprobe-outbox\.db is not a netprobe store \(its tables: client_state, outbox, outbox_rejected, tls_sessions; it is a client's outbox\)/,
    spawn: true,
  },
  {
    name: 'analyse an empty file',
    args: (p) => ['analyse', '--store', join(p.dir, 'empty.db')],
    stderr: /empty\.db is empty, not a netprobe store/,
    spawn: true,
  },
  {
    name: 'analyse a text file',
    args: (p) => ['analyse', '--store', join(p.dir, 'notes.txt')],
    stderr: /notes\.txt is not a netprobe store \(not an SQLite database\)/,
    spawn: true,
  },
  {
    name: "prune a client's outbox",
    args: (p) => ['store', 'prune', '--older-than', '1d', '--store', join(p.dir, 'netprobe-outbox.db'), '--yes'],
    stderr: /is not a netprobe store/,
    spawn: true,
  },
  {
    name: "migrate into a client's outbox",
    args: (p) => ['store', 'migrate', '--from', p.store, '--to', join(p.dir, 'netprobe-outbox.db')],
    stderr: /netprobe-outbox\.db is not a netprobe store/,
    spawn: true,
  },
  {
    name: "server on a client's outbox",
    args: (p) => [...server(p).slice(0, -2), '--store', join(p.dir, 'netprobe-outbox.db')],
    stderr: /netprobe-outbox\.db is not a netprobe store/,
    spawn: true,
  },
  {
    name: 'report into a file',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'notes.txt')],
    stderr: /--out \S+notes\.txt: cannot create \S+notes\.txt: a file of that name is in the way$/m,
    spawn: true,
  },
  {
    name: 'report below a file',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'notes.txt', 'report')],
    stderr: /--out \S+report: cannot create \S+report: \S+notes\.txt is a file, not a folder$/m,
    spawn: true,
  },
  {
    name: 'analyse, bucket without unit',
    args: (p) => ['analyse', '--store', p.store, '--bucket', '10'],
    stderr: /--bucket: '10' needs a unit: 10d, 10h/,
  },
  {
    name: 'analyse, --until not a time',
    args: (p) => ['analyse', '--store', p.store, '--until', 'tomorrow'],
    stderr: /--until 'tomorrow' is neither a time .* nor a duration before now/,
  },
  {
    name: 'analyse, unknown direction',
    args: (p) => ['analyse', '--store', p.store, '--direction', 'sideways'],
    stderr: /--direction: 'sideways' is not one of download, upload/,
  },
  {
    name: 'analyse, unknown CSV table',
    args: (p) => ['analyse', '--store', p.store, '--csv', 'pie'],
    stderr: /--csv: unknown CSV table 'pie'/,
  },
  {
    name: 'analyse, threshold duration without unit',
    args: (p) => ['analyse', '--store', p.store, '--threshold', 'minEpisodeMs=15'],
    stderr: /--threshold: minEpisodeMs: '15' needs a unit: 15d/,
  },
  {
    name: 'analyse, unknown time zone',
    args: (p) => ['analyse', '--store', p.store, '--tz', 'Mars/Base'],
    stderr: /--tz: unknown time zone 'Mars\/Base'/,
  },
  {
    name: 'analyse, --json and --csv',
    args: (p) => ['analyse', '--store', p.store, '--json', '--csv'],
    stderr: /choose one of --json and --csv/,
  },
  {
    name: 'report, bucket without unit',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'report'), '--bucket', '60'],
    stderr: /--bucket: '60' needs a unit/,
  },
  {
    name: 'report, PNG scale not a number',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'report'), '--png-scale', 'x'],
    stderr: /--png-scale: PNG scale 'x' must be a whole number from 1 to 4/,
  },
  {
    name: 'report, unknown option',
    args: (p) => ['report', '--store', p.store, '--out', join(p.dir, 'report'), '--png'],
    stderr: /unknown option '--png'/,
  },
  {
    name: 'certs init, unknown option',
    args: (p) => ['certs', 'init', '--dir', join(p.dir, 'certs'), '--hosts', 'a'],
    stderr: /unknown option '--hosts'/,
  },
  {
    name: 'certs client without a name',
    args: (p) => ['certs', 'client', '--dir', join(p.dir, 'certs')],
    stderr: /missing required argument 'name'/,
  },
  {
    name: 'certs crl, zero days',
    args: (p) => ['certs', 'crl', '--dir', join(p.dir, 'certs'), '--days', '0'],
    stderr: /--days: '0' is out of range: 1 to 36500/,
  },
  {
    name: 'certs revoke, days with a unit',
    args: (p) => ['certs', 'revoke', 'alice', '--dir', join(p.dir, 'certs'), '--days', '30d'],
    stderr: /--days: '30d' is not a whole number/,
  },
  {
    name: 'server, upload size without unit',
    args: (p) => [...server(p), '--max-upload-size', '16'],
    stderr: /--max-upload-size: '16' needs a unit: 16B, 16KiB/,
  },
  {
    name: 'server, upload size not a size',
    args: (p) => [...server(p), '--max-upload-size', 'big'],
    stderr: /--max-upload-size: 'big' is not a size/,
  },
  {
    name: 'server, report budget below 1KiB',
    args: (p) => [...server(p), '--client-report-size-per-minute', '1KB'],
    stderr: /--client-report-size-per-minute: '1KB' is too small: at least 1KiB/,
  },
  { name: 'unknown command option', args: (p) => ['analyse', '--store', p.store, '--frobnicate'], stderr: /unknown option '--frobnicate'/ },
  { name: 'unknown command', args: () => ['analyze-everything'], stderr: /unknown command 'analyze-everything'/, spawn: true },
];

test(`${CASES.length} mistaken command lines and config files: exit ≠ 0, one stderr line without a trace, nothing written or deleted`, async (t) => {
  assert.ok(CASES.length >= 30);
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await tempDir(t, 'netprobe-bad-input-');
  await mkdir(join(dir, 'work'));
  const p: Paths = {
    dir: join(dir, 'work'),
    store: join(dir, 'work', 'netprobe.db'),
    ca: pki.ca,
    cert: pki.clients.alice!.cert,
    key: pki.clients.alice!.key,
    serverCert: pki.serverCert,
    serverKey: pki.serverKey,
  };
  const rows = schedule('a', T0, 3_600_000, 20).map(stored);
  const store = await openStore(p.store);
  await store.insertResults([rows]);
  await store.close();
  for (const c of CASES) for (const [name, text] of Object.entries(c.files ?? {})) await writeFile(join(p.dir, name), text);
  // Things that are not a netprobe store: a client's outbox (made by the client's own code), an empty file, text.
  Outbox.open(join(p.dir, 'netprobe-outbox.db')).close();
  await writeFile(join(p.dir, 'empty.db'), '');
  await writeFile(join(p.dir, 'notes.txt'), 'not a database\n');

  const before = await snapshot(p.dir);
  const failures: string[] = [];
  const check = (c: Case, run: { code: number; stderr: string }) => {
    const lines = run.stderr.split('\n').filter((l) => l !== '');
    if (run.code === 0) failures.push(`${c.name}: exit 0`);
    if (lines.length !== 1) failures.push(`${c.name}: ${lines.length} stderr lines: ${run.stderr}`);
    if (/^\s+at /m.test(run.stderr) || /unexpected error/.test(run.stderr)) failures.push(`${c.name}: stack trace: ${run.stderr}`);
    if (!c.stderr.test(run.stderr)) failures.push(`${c.name}: stderr ${JSON.stringify(run.stderr)} does not match ${c.stderr}`);
  };
  // Child processes four at a time (the machine is shared); the in-process rows meanwhile, one by one.
  const spawned = CASES.filter((c) => c.spawn);
  const worker = async () => {
    for (let c = spawned.shift(); c !== undefined; c = spawned.shift())
      check(c, await netprobe(c.args(p), { env: c.env ?? {}, cwd: p.dir }));
  };
  const inProcess = async () => {
    for (const c of CASES.filter((row) => !row.spawn)) {
      assert.equal(c.env, undefined, `${c.name}: a row with variables must spawn`);
      let stderr = '';
      let stdout = '';
      const code = await runCli(['node', 'netprobe', ...c.args(p)], { writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t) });
      check(c, { code: code ?? 0, stderr });
      if (stdout !== '') failures.push(`${c.name}: wrote to stdout: ${stdout}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker(), inProcess()]);
  assert.deepEqual(failures, []);
  assert.deepEqual(await snapshot(p.dir), before);
  const after = await openStore(p.store, { readonly: true });
  t.after(() => after.close());
  assert.equal(await after.countResults(), rows.length);
});
