/**
 * Where the CPU goes (docs/profiling.md). Two modes, both under node's `--cpu-prof`, printing the top
 * functions by self time and writing the tables to bench/profiles/<label>.md:
 *
 * - a download: a netprobe server and `netprobe client --once` fetching a large random file over
 *   TLS on loopback;
 *     node --import tsx bench/profile.ts [--size MiB] [--verify sha256|none] [--label name]
 * - `--round`: one round of bench/concurrency.ts (NETPROBE_BENCH_CLIENTS clients, default 1,000:
 *   mTLS handshake, 1 MiB download, REPORT each) against `netprobe server --workers auto`; the
 *   primary and each worker get a profile, and their self time is also summed by category
 *   (TLS handshake, X.509, logging, IPC, …).
 *     node --import tsx bench/profile.ts --round [--workers auto|1] [--label name]
 * - `--round --perf`: the same round (warmed up as the bench's), the server's processes sampled by
 *   Linux perf instead (CPU time only, every thread, native frames; bench/perf-round.ts).
 *     node --import tsx bench/profile.ts --round --perf [--label name]
 *
 * Not part of `npm run bench` (it measures where time goes, not how fast).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { netprobeRound, writePki } from './concurrency.js';
import { perfByCategory, perfByJsFunction, readPerfStacks, shareTable } from './perf-round.js';
import { execFileAsync, spawnReady, writeRandomFile } from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const OUT_DIR = new URL('./profiles/', import.meta.url).pathname;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

interface Attributed {
  totalMs: number;
  spots: HotSpot[];
  /** Self time keyed by "function <- caller <- …" for native functions (up to 4 JavaScript callers), for categories. */
  withCaller: HotSpot[];
}

const frameName = (frame: CpuProfile['nodes'][number]['callFrame'] | undefined): string =>
  `${frame?.functionName || '(anonymous)'}${frame?.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : ''}`;

/** Self time per function (name + file:line), largest first; `(idle)` and `(program)` included as node reports them. */
export function selfTimes(profile: CpuProfile): Attributed {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of (n as { children?: number[] }).children ?? []) parent.set(c, n.id);
  /** The nearest callers with a script URL: a native function (writeBuffer, writeString) is known by who called it. */
  const caller = (id: number): string => {
    const names: string[] = [];
    for (let p = parent.get(id); p !== undefined && names.length < 4; p = parent.get(p)) {
      const frame = byId.get(p)?.callFrame;
      if (frame?.url) names.push(frameName(frame));
    }
    return names.map((n) => ` <- ${n}`).join('');
  };
  const self = new Map<string, number>();
  const selfWithCaller = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const frame = byId.get(id)?.callFrame;
    const key = frameName(frame);
    self.set(key, (self.get(key) ?? 0) + dt);
    const keyed = frame?.url || key === '(idle)' ? key : `${key}${caller(id)}`;
    selfWithCaller.set(keyed, (selfWithCaller.get(keyed) ?? 0) + dt);
  });
  const busyUs = totalUs - (self.get('(idle)') ?? 0);
  const spotsOf = (m: Map<string, number>) =>
    [...m.entries()]
      .filter(([name]) => name !== '(idle)')
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: busyUs / 1000, spots: spotsOf(self), withCaller: spotsOf(selfWithCaller) };
}

/**
 * Categories for the round's self time, first match wins: [category, test on "function file:line"].
 * `(program)` is native code with no JavaScript on the stack: for a TLS server mostly OpenSSL
 * (handshake crypto, record encryption) called from libuv's read callbacks, and the syscalls.
 */
const CATEGORIES: [string, RegExp][] = [
  ['GC', /^\(garbage collector\)/],
  ['native: OpenSSL, syscalls (no JS on the stack)', /^\(program\)/],
  [
    'logging and serialisation (pino)',
    /pino|sonic-boom|SonicBoom|multistream|proto\.js|log\.[jt]s|safe-stable-stringify|quick-format|asJson|redact/,
  ],
  ['IPC (worker ↔ primary)', /child_process|cluster|ipc\.[jt]s|worker\.[jt]s|serializ|v8\.js|channel/],
  ['transfer: socket writes (TLS record encryption, loopback send)', /^writeBuffer|^writev|transfer\.[jt]s|catalogue\.[jt]s|upload\.[jt]s/],
  [
    'X.509: getPeerCertificate, fingerprints',
    /getPeerCertificate|translatePeerCertificate|fingerprint|X509Certificate|@peculiar|asn1|pvtsutils/,
  ],
  ['revocation', /revocation\.[jt]s/],
  ['TLS (node:tls JS side, handshake callbacks, SecureContext)', /_tls_wrap|_tls_common|\btls\.js|onhandshake|secure_context|tls_wrap/i],
  ['metrics and events', /context\.[jt]s|stats\.[jt]s|load\.[jt]s|budget\.[jt]s|events\.js|metrics|prom-client|web\//],
  ['REPORT commit (ingest, zod, SQLite)', /ingest\.[jt]s|sqlite|better-sqlite3|zod|result\.[jt]s|messages\.[jt]s|schemas/],
  ['connection, frames (PING/PONG, HELLO)', /connection\.[jt]s|listener\.[jt]s|decoder\.[jt]s|frame\.[jt]s/],
  ['streams, sockets, buffers (node core)', /stream|net\.js|buffer|writev|internal\/|node:/],
  ['module loading, start-up', /loader|esm|cjs|modules|compile/i],
];

export function byCategory(spots: readonly HotSpot[]): HotSpot[] {
  const sums = new Map<string, number>();
  for (const s of spots) {
    const category = CATEGORIES.find(([, re]) => re.test(s.name))?.[0] ?? 'other';
    sums.set(category, (sums.get(category) ?? 0) + s.selfMs);
  }
  const total = spots.reduce((n, s) => n + s.selfMs, 0);
  return [...sums.entries()]
    .map(([name, selfMs]) => ({ name, selfMs, share: total > 0 ? selfMs / total : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

async function profilesIn(dir: string): Promise<{ file: string; pid: number; profile: CpuProfile }[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
  return Promise.all(
    files.map(async (file) => ({
      file,
      pid: Number(file.split('.')[3]),
      profile: JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile,
    })),
  );
}

async function newestProfile(dir: string): Promise<CpuProfile> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  return JSON.parse(await readFile(join(dir, files.at(-1)!), 'utf8')) as CpuProfile;
}

/** Prints a profile's tables and writes them to bench/profiles/<label>.md. */
async function writeProfile(label: string, text: string): Promise<void> {
  process.stdout.write(`${text}\n`);
  await mkdir(OUT_DIR, { recursive: true });
  await writeFile(join(OUT_DIR, `${label}.md`), text);
}

function table(title: string, result: { totalMs: number; spots: HotSpot[] }, top = 12, column = 'function'): string {
  const lines = [
    `### ${title}: ${result.totalMs.toFixed(0)} ms on the CPU (idle left out)`,
    '',
    `| ${column} | self ms | share |`,
    '| --- | ---: | ---: |',
  ];
  for (const s of result.spots.slice(0, top))
    lines.push(`| ${column === 'function' ? `\`${s.name}\`` : s.name} | ${s.selfMs.toFixed(0)} | ${(s.share * 100).toFixed(1)} % |`);
  return lines.join('\n');
}

/**
 * One bench/concurrency round with the server's processes sampled by Linux perf (CPU time only,
 * every thread; bench/perf-round.ts), after the bench's usual warm-up.
 */
async function perfRound(): Promise<void> {
  const label = flag('--label', `round-${process.env.NETPROBE_BENCH_CLIENTS ?? 1000}-perf`);
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-profile-'));
  const perfData = join(dir, 'perf.data');
  let pids: number[] = [];
  try {
    const { pki, pkiPath } = await writePki(dir);
    process.env.NETPROBE_BENCH_PERF_RECORD = perfData;
    const r = await netprobeRound(dir, pkiPath, pki, pki.clients.length);
    delete process.env.NETPROBE_BENCH_PERF_RECORD;
    pids = r.serverPids;
    const stacks = await readPerfStacks(perfData, pids);
    // perf record -F 499: one sample per ~2 ms of CPU.
    const msPerSample = 1000 / 499;
    const text = [
      `## ${label}`,
      '',
      `${new Date().toISOString()}: ${pki.clients.length} clients × (mTLS handshake, 1 MiB download, REPORT), server \`--workers auto\`, ` +
        `after ${r.warmUpMeasurements} warm-up measurements: round ${r.roundS.toFixed(2)} s, server CPU ${r.serverCpuS.toFixed(2)} s ` +
        `(${r.serverCpuSByProcess.map((c) => c.toFixed(2)).join(' + ')}), peak RSS ${r.serverPeakRssMiB.toFixed(0)} MiB, ${r.failures} failures; ` +
        `${stacks.length} perf samples of the server's processes during the round.`,
      '',
      shareTable(
        'server processes, by category (first match over the whole call stack)',
        perfByCategory(stacks),
        20,
        'category',
        msPerSample,
      ),
      '',
      shareTable('server processes, by the JavaScript function nearest the sample', perfByJsFunction(stacks), 30, 'function', msPerSample),
      '',
    ].join('\n');
    await writeProfile(label, text);
  } finally {
    // --perf-basic-prof's files: /tmp/perf-PID.map, and V8's isolate-…-PID-v8.log in the working directory.
    const logs = (await readdir('.')).filter((f) => pids.some((p) => f.startsWith('isolate-') && f.endsWith(`-${p}-v8.log`)));
    await Promise.all([...pids.map((p) => rm(`/tmp/perf-${p}.map`, { force: true })), ...logs.map((f) => rm(f, { force: true }))]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** One bench/concurrency round with the server (primary and workers) profiled. */
async function round(): Promise<void> {
  const workers = flag('--workers', 'auto') === '1' ? 1 : 'auto';
  const label = flag('--label', `round-${process.env.NETPROBE_BENCH_CLIENTS ?? 1000}-workers-${workers}`);
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-profile-'));
  try {
    const profDir = join(dir, 'server-prof');
    await mkdir(profDir);
    const { pki, pkiPath } = await writePki(dir);
    process.env.NETPROBE_BENCH_SERVER_PROFILE = profDir;
    // A cold server, as in parts 1–12: V8's profile covers the whole process, so a warm-up's
    // measurements would be in it (the --perf mode samples the timed round only, after the warm-up).
    const r = await netprobeRound(dir, pkiPath, pki, pki.clients.length, workers, 'full', true, false);
    delete process.env.NETPROBE_BENCH_SERVER_PROFILE;
    const profiles = await profilesIn(profDir);
    // The primary's profile has frames of server/cluster.js (its side of the messages); a forked
    // worker's has none (both run server/worker.js: the primary serves TLS too, through its own worker).
    const isPrimary = (p: CpuProfile) => p.nodes.some((n) => n.callFrame.url.endsWith('/server/cluster.js'));
    const parts: string[] = [
      `## ${label}`,
      '',
      `${new Date().toISOString()}: ${pki.clients.length} clients × (mTLS handshake, 1 MiB download, REPORT), server \`--workers ${workers}\`: ` +
        `round ${r.roundS.toFixed(2)} s, server CPU ${r.serverCpuS.toFixed(2)} s, peak RSS ${r.serverPeakRssMiB.toFixed(0)} MiB, ${r.failures} failures ` +
        '(profiling itself slows the server down; the profiles include start-up and shutdown).',
      '',
    ];
    const all: HotSpot[] = [];
    for (const p of profiles) {
      const t = selfTimes(p.profile);
      all.push(...t.withCaller);
      const who = workers === 1 ? 'server (one process)' : isPrimary(p.profile) ? `primary (pid ${p.pid})` : `worker (pid ${p.pid})`;
      parts.push(table(`${who}, by category`, { totalMs: t.totalMs, spots: byCategory(t.withCaller) }, 20, 'category'), '');
      parts.push(table(`${who}, top functions`, t, 25), '');
      parts.push(
        table(
          `${who}, top native functions by caller`,
          { totalMs: t.totalMs, spots: t.withCaller.filter((x) => x.name.includes(' <- ')) },
          12,
        ),
        '',
      );
    }
    const total = all.reduce((n, s) => n + s.selfMs, 0);
    parts.splice(4, 0, table('all server processes, by category', { totalMs: total, spots: byCategory(all) }, 20, 'category'), '');
    const text = parts.join('\n');
    await writeProfile(label, text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizeMiB = Number(flag('--size', '1024'));
  const verify = flag('--verify', 'sha256');
  const label = flag('--label', `download-${sizeMiB}MiB-${verify}`);
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-profile-'));
  try {
    await mkdir(join(dir, 'files'));
    await writeRandomFile(join(dir, 'files', 'big.bin'), sizeMiB * 2 ** 20);
    const certs = join(dir, 'certs');
    await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', certs]);
    await execFileAsync(process.execPath, [CLI, 'certs', 'client', 'profiler', '--dir', certs]);
    await mkdir(join(dir, 'server-prof'));
    await mkdir(join(dir, 'client-prof'));
    const server = await spawnReady(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        join(dir, 'server-prof'),
        CLI,
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--ca',
        join(certs, 'ca.crt'),
        '--cert',
        join(certs, 'server.crt'),
        '--key',
        join(certs, 'server.key'),
        '--files',
        join(dir, 'files'),
        '--builtin-files',
        '',
        '--store',
        join(dir, 'p.db'),
        '--stats-interval',
        '0',
        '--log-level',
        'info',
      ],
      (l) => l.includes('"listening"'),
    );
    const port = (JSON.parse(server.line) as { port: number }).port;
    const { stdout } = await execFileAsync(process.execPath, [
      '--cpu-prof',
      '--cpu-prof-dir',
      join(dir, 'client-prof'),
      CLI,
      'client',
      '--once',
      '--json',
      '--server',
      `127.0.0.1:${port}`,
      '--ca',
      join(certs, 'ca.crt'),
      '--cert',
      join(certs, 'clients', 'profiler.crt'),
      '--key',
      join(certs, 'clients', 'profiler.key'),
      '--file',
      'big.bin',
      '--verify',
      verify,
      '--outbox',
      join(dir, 'outbox.db'),
      '--log-level',
      'warn',
    ]);
    const result = JSON.parse(stdout.trim().split('\n')[0]!) as { throughputMbps: number; cpuMs: number; bytes: number; error: unknown };
    if (result.error) throw new Error(`download failed: ${JSON.stringify(result.error)}`);
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    const client = selfTimes(await newestProfile(join(dir, 'client-prof')));
    const srv = selfTimes(await newestProfile(join(dir, 'server-prof')));
    const text = [
      `## ${label}`,
      '',
      `${new Date().toISOString()}: one ${sizeMiB} MiB download over TLS on loopback, \`--verify ${verify}\`: ` +
        `${result.throughputMbps.toFixed(0)} Mbit/s, client CPU during the transfer ${(result.cpuMs / 1000 / (result.bytes / 2 ** 30)).toFixed(2)} s per GiB ` +
        '(profiling itself slows both sides down a little).',
      '',
      table('client (whole process)', client),
      '',
      table('server (whole process)', srv),
      '',
    ].join('\n');
    await writeProfile(label, text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await (process.argv.includes('--round') ? (process.argv.includes('--perf') ? perfRound() : round()) : main());
}
