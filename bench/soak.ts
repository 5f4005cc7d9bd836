/**
 * Soak: N concurrent clients (the real client code, one certificate and outbox each) measure and
 * report against the server process for a while; then every client stops (final report) and the
 * store is compared with what the clients made.
 *
 *   node --import tsx bench/soak.ts [--clients 1000] [--duration 60s] [--interval 30s] [--quick]
 *
 * Pass criteria: zero lost results (every measurement made is stored exactly once), zero server
 * errors (no error-level log line), the server's RSS flat (after a warm-up of the first 25 % of the
 * run, the last 40 % within 64 MiB of the part before). All clients run in this one process, so on a
 * small machine the fleet, not the server, sets the pace: keep clients ÷ interval within what the
 * box can measure (about 30 measurements a second on 2 cores). Writes bench/results/soak.json; exits 1 when a criterion fails. Needs the
 * built CLI (`npm run build`). test/reliability/soak.test.ts runs a short version in CI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NetprobeClient } from '../src/client/client.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { createCa, issueCert } from '../src/tls/pki.js';
import { parseDurationMs } from '../src/units.js';

const CLI = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const RSS_PLATEAU_SLACK_MIB = 64;

export interface SoakOptions {
  clients: number;
  durationMs: number;
  /** Each client measures this often (jittered by up to half of it). */
  intervalMs: number;
  file?: string;
  progress?: (line: string) => void;
}

export interface SoakResult {
  clients: number;
  durationMs: number;
  measurements: number;
  failedMeasurements: number;
  failureCodes: Record<string, number>;
  stored: number;
  /** Measurements made but not stored. */
  lost: number;
  /** Stored rows no client made (must be 0). */
  unexpected: number;
  unsent: number;
  serverErrorLines: number;
  rssMiB: number[];
  rssEarlyMaxMiB: number;
  rssLateMaxMiB: number;
  serverCpuSeconds: number;
  pass: boolean;
}

function procStat(pid: number): { rssMiB: number; cpuSeconds: number } {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMiB: Number(rss?.[1] ?? 0) / 1024, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / 100 };
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const say = o.progress ?? (() => undefined);
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-soak-'));
  let server: ChildProcess | undefined;
  try {
    const ca = await createCa();
    const serverPem = await issueCert(ca, {
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    await writeFile(files.ca, ca.certPem);
    await writeFile(files.cert, serverPem.certPem);
    await writeFile(files.key, serverPem.keyPem, { mode: 0o600 });
    const store = join(dir, 'soak.db');

    // The whole client fleet runs in this one process, so at 1,000 clients its event loop, not the
    // server, sets the pace of TLS handshakes: past the default 10 s handshake deadline the server
    // hangs up on clients that are merely queued here (seen: ~1,700 ERR_TLS_HANDSHAKE_TIMEOUT).
    const child = spawn(
      process.execPath,
      [
        CLI,
        'server',
        '--workers',
        '1',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--ca',
        files.ca,
        '--cert',
        files.cert,
        '--key',
        files.key,
        '--store',
        store,
        '--builtin-files',
        o.file ?? '64KiB',
        '--stats-interval',
        '10s',
        '--max-connections-per-client',
        '16',
        '--handshake-timeout',
        '60s',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    server = child;
    let serverErrorLines = 0;
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
      createInterface({ input: child.stdout! }).on('line', (text) => {
        const line = JSON.parse(text) as { level?: number; msg?: string; port?: number };
        if ((line.level ?? 0) >= 50) {
          serverErrorLines++;
          say(`server error: ${text}`);
        }
        if (line.msg === 'listening') resolve(Number(line.port));
      });
    });

    say(`issuing ${o.clients} client certificates`);
    const made = new Map<string, { client: string; error: string | null }>();
    const clients: NetprobeClient[] = [];
    await mkdir(join(dir, 'outboxes'));
    for (let i = 0; i < o.clients; i++) {
      const name = `soak-${i}`;
      const pem = await issueCert(ca, { commonName: name, usage: 'client' });
      clients.push(
        new NetprobeClient(
          {
            servers: [{ host: '127.0.0.1', port }],
            tls: { ca: Buffer.from(ca.certPem), cert: Buffer.from(pem.certPem), key: Buffer.from(pem.keyPem) },
            file: o.file ?? '64KiB',
            schedule: { kind: 'interval', intervalMs: o.intervalMs, jitter: 0.5 },
            outboxPath: join(dir, 'outboxes', `${name}.db`),
            reportBackoffBaseMs: 500,
            reportBackoffMaxMs: 5_000,
            probe: { idlePings: 2, loadedPingIntervalMs: 100 },
          },
          { onResult: (r) => made.set(r.id, { client: name, error: r.error?.code ?? null }) },
        ),
      );
    }

    say(`${o.clients} clients measuring for ${o.durationMs} ms (every ${o.intervalMs} ms ±50 %)`);
    const pid = child.pid!;
    const samples: { rssMiB: number; cpuSeconds: number }[] = [procStat(pid)];
    const sampler = setInterval(() => samples.push(procStat(pid)), 500);
    const running = clients.map((c) => c.run());
    await new Promise((r) => setTimeout(r, o.durationMs));
    clearInterval(sampler);
    say('stopping the clients (each sends what its outbox holds)');
    const outcomes = await Promise.all(clients.map((c) => c.stop()));
    await Promise.all(running);
    const serverCpuSeconds = procStat(pid).cpuSeconds;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;

    const db = new SqliteStore(store, { readonly: true });
    const stored = new Set<string>();
    let unexpected = 0;
    for await (const row of db.iterateResults()) {
      if (made.get(row.id)?.client === row.client) stored.add(row.id);
      else unexpected++;
    }
    await db.close();
    const failureCodes: Record<string, number> = {};
    for (const m of made.values()) if (m.error !== null) failureCodes[m.error] = (failureCodes[m.error] ?? 0) + 1;
    const rssMiB = samples.map((s) => Math.round(s.rssMiB));
    const warm = Math.floor(rssMiB.length * 0.25);
    const split = Math.max(warm + 1, Math.floor(rssMiB.length * 0.6));
    const rssEarlyMaxMiB = Math.max(...rssMiB.slice(warm, split));
    const rssLateMaxMiB = Math.max(...rssMiB.slice(split), 0);
    const result: SoakResult = {
      clients: o.clients,
      durationMs: o.durationMs,
      measurements: made.size,
      failedMeasurements: Object.values(failureCodes).reduce((a, b) => a + b, 0),
      failureCodes,
      stored: stored.size,
      lost: [...made.keys()].filter((id) => !stored.has(id)).length,
      unexpected,
      unsent: outcomes.reduce((n, x) => n + x.remaining, 0),
      serverErrorLines,
      rssMiB,
      rssEarlyMaxMiB,
      rssLateMaxMiB,
      serverCpuSeconds,
      pass: false,
    };
    result.pass =
      result.measurements > 0 &&
      result.lost === 0 &&
      result.unexpected === 0 &&
      result.serverErrorLines === 0 &&
      rssLateMaxMiB - rssEarlyMaxMiB < RSS_PLATEAU_SLACK_MIB;
    return result;
  } finally {
    // A run that failed part-way must not leave its server behind.
    if (server !== undefined && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const clients = Number(flag('--clients') ?? (quick ? 100 : 1000));
  const durationMs = parseDurationMs(flag('--duration') ?? (quick ? '10s' : '60s'), 'duration');
  const intervalMs = parseDurationMs(flag('--interval') ?? (quick ? '4s' : '30s'), 'interval');
  const result = await runSoak({ clients, durationMs, intervalMs, progress: (line) => process.stderr.write(`soak: ${line}\n`) });
  const { rssMiB, ...summary } = result;
  process.stdout.write(`${JSON.stringify({ ...summary, rssMiB: rssMiB.filter((_, i) => i % 10 === 0) }, null, 2)}\n`);
  const out = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'soak.json'),
    `${JSON.stringify({ bench: 'soak', at: new Date().toISOString(), quick, machine: { cores: cpus().length, node: process.version }, ...result }, null, 2)}\n`,
  );
  process.exitCode = result.pass ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
