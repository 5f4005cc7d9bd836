/**
 * 1,000 concurrent clients (100 with --quick), each with its own certificate, doing one 1 MiB
 * measurement (probe(): connect, TLS, HELLO, 5 idle PINGs, a second connection for loaded RTT, the
 * download with its SHA-256) and one REPORT on the measured connection, as `netprobe client`
 * reports (a new connection after a failed measurement), all released at once. The
 * clients run in WORKERS child processes, started and ready before the round starts.
 *
 * Per round: time from release to the last ACK, failures (target 0), the server's peak RSS (VmHWM of
 * the primary and its forked workers summed, fresh server per round) and CPU, with `netprobe
 * server`'s default `--workers auto` (one process serving TLS per core, the primary one of them);
 * one more round with `--workers 1` (one process) for comparison. Reference in the same run: the
 * same number of 1 MiB downloads with curl against nginx (HTTPS, TLS 1.3, same certificate),
 * `xargs -P N` → ratio of round times; and once more with nginx verifying client certificates
 * (mutual TLS, each curl presenting its own), as netprobe's server does. The FLOOR in the same run
 * (bench/floor.ts): the same curl clients, file size and concurrency against a bare node:tls server
 * with the project's TLS options that only handshakes, sends 1 MiB and closes: the part of the
 * server's CPU node's TLS stack spends whatever netprobe does (with mutual TLS, and once more
 * without client certificates, as nginx is run here).
 * Full mode adds one round at the server's default --max-concurrent-transfers (256),
 * to show BUSY at work: refused transfers come back after the jittered retry-after.
 *
 * Runs alternate: nginx (both ways) and the FLOOR (both ways) run for the whole bench, each serving
 * all its rounds from one process, and run i is netprobe's round i, then one round of each of them,
 * back to back. Each ratio of netprobe to a reference is the median of the runs' own ratios (each
 * run's are in the metric), so a change in a shared machine's speed between runs (server CPU for the
 * same round fell by a third within a quarter of an hour here) moves both sides of a ratio together.
 * netprobe's server is started fresh for each round (its VmHWM is the round's) and first serves
 * SERVER_WARM_UP_PER_WORKER measurements per client worker, not timed, so it runs compiled code as
 * the long-running references do; one more round on a cold server shows the difference.
 *
 * TLS sessions, as `netprobe client` uses them: each client keeps its tickets (TlsSessions). In the
 * 'full' rounds a client has none yet and its measured connection makes a full handshake (as on a
 * scheduled client's --full-handshake-every run); its loaded-RTT connection resumes the session the
 * measured connection just made. One more round ('resumed') is what a scheduled client does
 * between those runs: each client first makes one connection to the same server (before the round
 * is timed) and keeps its ticket, then every connection of its measurement resumes that session.
 *
 * One more full-handshake round without the loaded-RTT connection (`netprobe client
 * --loaded-ping-interval 0`: no second connection, no loaded RTT, no RPM) shows what that
 * connection and its PINGs cost the server and the round; the reference rounds have none.
 *
 *   node --import tsx bench/concurrency.ts [--quick]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TlsSessions } from '../src/client/connect.js';
import { probe } from '../src/client/probe.js';
import { openSession } from '../src/client/session.js';
import { createCa, issueCert } from '../src/tls/pki.js';
import { type FloorRound, type ReferenceServer, startFloor, writeClientFiles } from './floor.js';
import {
  type BenchRow,
  QUICK,
  cpuSeconds,
  execFileAsync,
  freePort,
  median,
  peakRssBytes,
  printTable,
  processTree,
  shellQuote,
  spawnReady,
  timedShell,
  totalCpuSeconds,
  writeNginxConfig,
  writeRandomFile,
  writeResult,
} from './lib.js';

const CLI = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
/** NETPROBE_BENCH_CLIENTS overrides the fleet size (profiling, smaller machines). */
const CLIENTS = Number(process.env.NETPROBE_BENCH_CLIENTS) || (QUICK ? 100 : 1000);
const RUNS = QUICK ? 1 : 3;
const WORKERS = 2;
const FILE = '1MiB';
const MiB = 2 ** 20;

interface ClientOutcome {
  ok: boolean;
  code: string | null;
  busyRetries: number;
  ms: number;
  /** The measured connection resumed a TLS session. */
  tlsResumed: boolean;
}

/** 'full': the measured connection makes a full handshake, the others resume its session; 'resumed': every connection resumes a session made before the round. */
export type Handshakes = 'full' | 'resumed';
/** Clients of one worker making their warm-up connection at once ('resumed' rounds). */
const WARM_UP_BATCH = 50;
/**
 * Measurements (probe + REPORT, WARM_UP_BATCH at a time, with TLS sessions then thrown away) each
 * client worker makes before the round, so the server's hot paths are compiled: nginx and the FLOOR
 * serve every round of theirs from one process, while netprobe's server is fresh each round (its
 * VmHWM is the round's). Without it a fresh server spent 10–13 % of the round's CPU in V8's
 * optimising compiler (perf, docs/profiling.md part 13); the 'cold' round keeps that figure.
 */
const SERVER_WARM_UP_PER_WORKER = 100;

interface WorkerReport {
  outcomes: ClientOutcome[];
  /** CPU the worker process used from "go" to its last ACK, s. */
  cpuS: number;
}

export interface Pki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clients: { name: string; cert: string; key: string }[];
}

/** What one client worker process does, given to it as one JSON argument. */
interface WorkerTask {
  pkiPath: string;
  port: number;
  /** Its share of the clients: pki.clients[from, to). */
  from: number;
  to: number;
  handshakes: Handshakes;
  /** The clients open the loaded-RTT connection (the client's default). */
  loadedRtt: boolean;
  /** Measurements made before "ready" to warm the server (SERVER_WARM_UP_PER_WORKER, or 0). */
  warmUp: number;
}

/** In a worker process: one probe + REPORT per client of its share, all at once after "go". */
async function worker({ pkiPath, port, from, to, handshakes, loadedRtt, warmUp }: WorkerTask): Promise<void> {
  const pki = JSON.parse(await readFile(pkiPath, 'utf8')) as Pki;
  const ca = Buffer.from(pki.ca);
  const clients = pki.clients
    .slice(from, to)
    .map((c) => ({ name: c.name, tls: { ca, cert: Buffer.from(c.cert), key: Buffer.from(c.key) }, sessions: new TlsSessions() }));
  const endpoint = { host: '127.0.0.1', port };
  // The server's warm-up: whole measurements with sessions of their own, not kept.
  for (let i = 0; i < Math.min(warmUp, clients.length); i += WARM_UP_BATCH) {
    await Promise.all(
      clients.slice(i, Math.min(warmUp, i + WARM_UP_BATCH)).map(async (c) => {
        const { result, session } = await probe({
          endpoint,
          tls: c.tls,
          file: FILE,
          clientName: c.name,
          sessions: new TlsSessions(),
          keepSession: true,
        });
        try {
          await session?.report([result]);
        } finally {
          session?.close();
        }
      }),
    );
  }
  if (handshakes === 'resumed') {
    // One connection (full handshake, HELLO: the tickets arrive before WELCOME) per client, before "ready".
    for (let i = 0; i < clients.length; i += WARM_UP_BATCH) {
      await Promise.all(
        clients
          .slice(i, i + WARM_UP_BATCH)
          .map(async (c) => (await openSession({ endpoint, tls: c.tls, sessions: c.sessions })).session.close()),
      );
    }
  }
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => lines.once('line', () => resolve()));
  lines.close();
  const cpu0 = process.cpuUsage();
  const outcomes = await Promise.all(
    clients.map(async (c): Promise<ClientOutcome> => {
      const t0 = performance.now();
      // The client's defaults throughout (timeouts, BUSY retries): failures are what a fleet would see.
      const { result, session: measured } = await probe({
        endpoint,
        tls: c.tls,
        file: FILE,
        clientName: c.name,
        sessions: c.sessions,
        fullHandshake: handshakes === 'full',
        keepSession: true,
        // Without: the client's default period; 0 is `--loaded-ping-interval 0`.
        ...(loadedRtt ? {} : { loadedPingIntervalMs: 0 }),
      });
      let code = result.error?.code ?? null;
      try {
        // As `netprobe client` reports: on the measurement's own connection, or (after a failed one) a new one.
        const session = measured ?? (await openSession({ endpoint, tls: c.tls, sessions: c.sessions })).session;
        try {
          const ack = await session.report([result]);
          if (!ack.ids.includes(result.id)) code ??= 'REPORT_NOT_ACKED';
        } finally {
          session.close();
        }
      } catch (err) {
        code ??= `REPORT_${(err as { code?: string }).code ?? 'FAILED'}`;
      }
      return {
        ok: code === null,
        code,
        busyRetries: result.busyRetries,
        ms: performance.now() - t0,
        tlsResumed: result.tlsResumed === true,
      };
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ outcomes, cpuS: (cpu.user + cpu.system) / 1e6 } satisfies WorkerReport)}\n`);
}

function startWorker(task: WorkerTask): { child: ChildProcess; ready: Promise<void>; report: Promise<WorkerReport> } {
  // NETPROBE_BENCH_PROFILE=DIR writes CPU profiles of the workers and the server there.
  const profile = process.env.NETPROBE_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.NETPROBE_BENCH_PROFILE] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', SELF, '--worker', JSON.stringify(task)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  let markReady: () => void = () => undefined;
  let markDone: (r: WorkerReport) => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    fail = reject;
  });
  const report = new Promise<WorkerReport>((resolve, reject) => {
    markDone = resolve;
    const prev = fail;
    fail = (err) => {
      prev(err);
      reject(err);
    };
  });
  report.catch(() => undefined);
  lines.on('line', (line) => {
    if (line === 'ready') markReady();
    else if (line.startsWith('{')) markDone(JSON.parse(line) as WorkerReport);
  });
  child.once('exit', (code) => fail(new Error(`concurrency worker exited (${code})`)));
  return { child, ready, report };
}

export interface Round {
  limit: number | 'default';
  handshakes: Handshakes;
  /** The clients opened the loaded-RTT connection (the client's default). */
  loadedRtt: boolean;
  /** Measurements the server made before the round (SERVER_WARM_UP_PER_WORKER per client worker; 0: a cold server). */
  warmUpMeasurements: number;
  /** Measured connections that resumed a TLS session. */
  resumed: number;
  roundS: number;
  failures: number;
  codes: Record<string, number>;
  busyRetries: number;
  clientP50S: number;
  clientMaxS: number;
  serverPeakRssMiB: number;
  /** VmHWM of each server process, the primary first. */
  serverPeakRssMiBByProcess: number[];
  serverCpuS: number;
  /** CPU of each server process during the round, the primary first. */
  serverCpuSByProcess: number[];
  /** The server's processes, the primary first. */
  serverPids: number[];
  clientCpuS: number;
}

export async function netprobeRound(
  dir: string,
  pkiPath: string,
  pki: Pki,
  maxConcurrentTransfers: number | 'default',
  serverWorkers: 1 | 'auto' = 'auto',
  handshakes: Handshakes = 'full',
  loadedRtt = true,
  warmServer = true,
): Promise<Round> {
  const limits = maxConcurrentTransfers === 'default' ? [] : ['--max-concurrent-transfers', String(maxConcurrentTransfers)];
  // The default of `netprobe server` is 'auto'; said anyway, so the one-process round differs only here.
  limits.push('--workers', String(serverWorkers));
  await rm(join(dir, 'server.db'), { force: true });
  // NETPROBE_PROFILE_WORKERS: the server's worker processes inherit --cpu-prof (cluster.ts drops it otherwise).
  const profileDir = process.env.NETPROBE_BENCH_SERVER_PROFILE ?? process.env.NETPROBE_BENCH_PROFILE;
  const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  // With perf (below): JavaScript function names in /tmp/perf-PID.map; the workers inherit the flag.
  if (process.env.NETPROBE_BENCH_PERF_RECORD) profile.push('--perf-basic-prof');
  const env = profileDir ? { ...process.env, NETPROBE_PROFILE_WORKERS: '1' } : undefined;
  const server = await spawnReady(
    process.execPath,
    [
      ...profile,
      CLI,
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--ca',
      join(dir, 'ca.crt'),
      '--cert',
      join(dir, 'server.crt'),
      '--key',
      join(dir, 'server.key'),
      '--builtin-files',
      FILE,
      '--store',
      join(dir, 'server.db'),
      '--max-connections',
      String(CLIENTS * 4),
      '--stats-interval',
      '0',
      ...limits,
    ],
    (l) => l.includes('"listening"'),
    60_000,
    undefined,
    env,
  );
  const pid = server.child.pid!;
  let workers: ReturnType<typeof startWorker>[] = [];
  try {
    const port = (JSON.parse(server.line) as { port: number }).port;
    const share = Math.ceil(CLIENTS / WORKERS);
    workers = Array.from({ length: WORKERS }, (_, i) =>
      startWorker({
        pkiPath,
        port,
        from: i * share,
        to: Math.min(CLIENTS, (i + 1) * share),
        handshakes,
        loadedRtt,
        warmUp: warmServer ? SERVER_WARM_UP_PER_WORKER : 0,
      }),
    );
    await Promise.all(workers.map((w) => w.ready));
    // With --workers: the primary and its worker processes together.
    const serverPids = await processTree(pid);
    const serverCpu = () => totalCpuSeconds(serverPids);
    const cpu0 = serverCpu();
    const cpu0ByProcess = serverPids.map(cpuSeconds);
    // NETPROBE_BENCH_PERF_RECORD=FILE: Linux perf samples the server's processes (CPU time only, with
    // call graphs) during the timed round (bench/profile.ts --round --perf).
    const perfOut = process.env.NETPROBE_BENCH_PERF_RECORD;
    const perf = perfOut
      ? spawn('perf', ['record', '-g', '-F', '499', '-p', serverPids.join(','), '-o', perfOut], { stdio: 'ignore' })
      : undefined;
    if (perf) await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    for (const w of workers) w.child.stdin!.end('go\n');
    const reports = await Promise.all(workers.map((w) => w.report));
    const roundS = (performance.now() - t0) / 1000;
    if (perf) {
      perf.kill('SIGINT');
      await new Promise((r) => perf.once('exit', r));
    }
    const outcomes = reports.flatMap((r) => r.outcomes);
    if (outcomes.length !== pki.clients.length) throw new Error(`${outcomes.length} outcomes for ${pki.clients.length} clients`);
    const codes: Record<string, number> = {};
    for (const o of outcomes) if (o.code !== null) codes[o.code] = (codes[o.code] ?? 0) + 1;
    const times = outcomes.map((o) => o.ms / 1000);
    return {
      limit: maxConcurrentTransfers,
      handshakes,
      loadedRtt,
      warmUpMeasurements: warmServer ? Math.min(SERVER_WARM_UP_PER_WORKER * WORKERS, CLIENTS) : 0,
      resumed: outcomes.filter((o) => o.tlsResumed).length,
      roundS,
      failures: outcomes.filter((o) => !o.ok).length,
      codes,
      busyRetries: outcomes.reduce((n, o) => n + o.busyRetries, 0),
      clientP50S: median(times),
      clientMaxS: Math.max(...times),
      serverPeakRssMiB: serverPids.reduce((n, p) => n + peakRssBytes(p), 0) / MiB,
      serverPeakRssMiBByProcess: serverPids.map((p) => Math.round(peakRssBytes(p) / MiB)),
      serverCpuS: serverCpu() - cpu0,
      serverCpuSByProcess: serverPids.map((p, i) => Math.round((cpuSeconds(p) - cpu0ByProcess[i]!) * 100) / 100),
      serverPids,
      clientCpuS: reports.reduce((n, r) => n + r.cpuS, 0),
    };
  } finally {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  }
}

/** One round of CLIENTS curl downloads against nginx. */
interface CurlRound {
  roundS: number;
  failures: number;
  curlCpuS: number;
  nginxCpuS: number;
}

/**
 * nginx, started once: each `round()` is CLIENTS curl downloads, all at once. With `clientDir` nginx
 * verifies a client certificate (mutual TLS, as netprobe's server does) and each curl presents its
 * own (bench/floor.ts `writeClientFiles`); without it, server-authenticated TLS. Kept running
 * between rounds, so the rounds of each server alternate (see `benchConcurrency`).
 */
async function startNginx(dir: string, clientDir?: string): Promise<ReferenceServer<CurlRound>> {
  await mkdir(join(dir, 'www'), { recursive: true });
  await writeRandomFile(join(dir, 'www', FILE), MiB);
  const port = await freePort();
  const nginxArgs = await writeNginxConfig({
    prefix: join(dir, clientDir === undefined ? 'nginx' : 'nginx-mtls'),
    listen: `127.0.0.1:${port}`,
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    root: join(dir, 'www'),
    workers: 'auto',
    connections: CLIENTS * 2,
    ...(clientDir === undefined ? {} : { clientCa: join(dir, 'ca.crt') }),
  });
  const nginx = spawn('nginx', nginxArgs, { stdio: 'ignore' });
  const stop = async () => {
    if (nginx.exitCode === null && nginx.signalCode === null) {
      nginx.kill('SIGTERM');
      await new Promise((r) => nginx.once('exit', r));
    }
  };
  try {
    const url = `https://localhost:${port}/${FILE}`;
    const certArgs = clientDir === undefined ? [] : ['--cert', join(clientDir, 'c{}.crt'), '--key', join(clientDir, 'c{}.key')];
    const curl = ['curl', '-s', '-o', '/dev/null', '--cacert', join(dir, 'ca.crt'), '--tlsv1.3', ...certArgs, '-w', '%{http_code}\\n', url];
    for (let i = 0; ; i++) {
      try {
        await execFileAsync(
          curl[0]!,
          curl.slice(1).map((a) => a.replace('{}', '0')),
        );
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // The master and its workers (pgrep -P: the workers' command lines do not name the config).
    const pids = await processTree(nginx.pid!);
    const nginxCpu = () => totalCpuSeconds(pids);
    const round = async (): Promise<CurlRound> => {
      const cpu0 = nginxCpu();
      const t0 = performance.now();
      const { stdout, cpuSeconds: curlCpuS } = await timedShell(`seq 0 ${CLIENTS - 1} | xargs -P ${CLIENTS} -I{} ${shellQuote(curl)}`);
      const roundS = (performance.now() - t0) / 1000;
      const codes = stdout.trim().split('\n');
      return { roundS, failures: CLIENTS - codes.filter((c) => c === '200').length, curlCpuS, nginxCpuS: nginxCpu() - cpu0 };
    };
    return { round, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A CA, the server's certificate and one client certificate per client, written into `dir` (pki.json, ca.crt, server.crt, server.key). */
export async function writePki(dir: string): Promise<{ pki: Pki; pkiPath: string }> {
  process.stderr.write(`concurrency: issuing ${CLIENTS} client certificates …\n`);
  const ca = await createCa();
  const server = await issueCert(ca, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await issueCert(ca, { commonName: `c${i}`, usage: 'client' });
    clients.push({ name: `c${i}`, cert: c.certPem, key: c.keyPem });
  }
  const pki: Pki = { ca: ca.certPem, serverCert: server.certPem, serverKey: server.keyPem, clients };
  const pkiPath = join(dir, 'pki.json');
  await writeFile(pkiPath, JSON.stringify(pki), { mode: 0o600 });
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'server.crt'), server.certPem);
  await writeFile(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  return { pki, pkiPath };
}

export async function benchConcurrency(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-conc-'));
  try {
    const { pki, pkiPath } = await writePki(dir);
    const rounds: Round[] = [];
    const curl: CurlRound[] = [];
    const curlMtls: CurlRound[] = [];
    const floor: FloorRound[] = [];
    const floorNoClientCert: FloorRound[] = [];
    // The references run all the time, and each run is one round of every server back to back, so a
    // change in the shared machine's load between runs moves a run's rounds together; each ratio is
    // the median of the runs' own ratios (`pairedRatio`).
    const clientDir = await writeClientFiles(dir, pki.clients);
    const floorOptions = { dir, clientDir, clients: CLIENTS, workers: availableParallelism(), file: FILE, sizeBytes: MiB };
    const references: ReferenceServer<unknown>[] = [];
    const started = async <R>(server: Promise<ReferenceServer<R>>): Promise<ReferenceServer<R>> => {
      const s = await server;
      references.push(s);
      return s;
    };
    try {
      const nginx = await started(startNginx(dir));
      const nginxMtls = await started(startNginx(dir, clientDir));
      // The floor (bench/floor.ts): the nginx round's clients against a bare node:tls server.
      const floorMtls = await started(startFloor({ ...floorOptions, clientCert: true }));
      const floorPlain = await started(startFloor({ ...floorOptions, clientCert: false }));
      for (let i = 0; i < RUNS; i++) {
        process.stderr.write(
          `concurrency: run ${i + 1}/${RUNS}: netprobe, curl+nginx, curl+nginx with mutual TLS, the floor with and without client certificates …\n`,
        );
        rounds.push(await netprobeRound(dir, pkiPath, pki, CLIENTS));
        curl.push(await nginx.round());
        curlMtls.push(await nginxMtls.round());
        floor.push(await floorMtls.round());
        floorNoClientCert.push(await floorPlain.round());
      }
    } finally {
      await Promise.all(references.map((r) => r.stop()));
    }
    process.stderr.write('concurrency: netprobe round on a cold server (no warm-up) …\n');
    const coldRound = await netprobeRound(dir, pkiPath, pki, CLIENTS, 'auto', 'full', true, false);
    const busyRound = QUICK
      ? undefined
      : (process.stderr.write('concurrency: netprobe round at the default transfer limit …\n'),
        await netprobeRound(dir, pkiPath, pki, 'default'));
    const singleRound = QUICK
      ? undefined
      : (process.stderr.write('concurrency: netprobe round with --workers 1 …\n'), await netprobeRound(dir, pkiPath, pki, CLIENTS, 1));
    process.stderr.write('concurrency: netprobe round with resumed TLS sessions …\n');
    const resumedRound = await netprobeRound(dir, pkiPath, pki, CLIENTS, 'auto', 'resumed');
    process.stderr.write('concurrency: netprobe round without the loaded-RTT connection …\n');
    const noLoadedRttRound = await netprobeRound(dir, pkiPath, pki, CLIENTS, 'auto', 'full', false);

    /** The median of the runs' own ratios: run i's round of `a` against run i's round of `b`. */
    const pairedRatio = (a: readonly number[], b: readonly number[]): number => median(a.map((x, i) => x / b[i]!));
    /** Each run's ratio, for the metric's text. */
    const runRatios = (a: readonly number[], b: readonly number[]): string => a.map((x, i) => `${(x / b[i]!).toFixed(2)}×`).join(', ');
    const npRoundS = median(rounds.map((r) => r.roundS));
    const curlRoundS = median(curl.map((r) => r.roundS));
    const nginxCpuS = median(curl.map((r) => r.nginxCpuS));
    const npCpuS = median(rounds.map((r) => r.serverCpuS));
    const failures = rounds.reduce((n, r) => n + r.failures, 0);
    const npRoundsS = rounds.map((r) => r.roundS);
    const curlRoundsS = curl.map((r) => r.roundS);
    const npCpusS = rounds.map((r) => r.serverCpuS);
    const nginxCpusS = curl.map((r) => r.nginxCpuS);
    const peakRssMiB = median(rounds.map((r) => r.serverPeakRssMiB));
    const label = `${CLIENTS} clients × 1 MiB`;
    if (rounds.some((r) => r.resumed > 0)) throw new Error('a measured connection resumed a session in a full-handshake round');
    const resumedLabel = `${label}, TLS sessions resumed (${resumedRound.resumed} of ${CLIENTS} measured connections resumed; ${resumedRound.failures} failures)`;
    // Issue 18's targets, for the full-handshake rounds.
    const targets = { roundRatio: 1, cpuRatio: 2, peakRssMiB: 300 };
    const rows: BenchRow[] = [
      {
        bench: 'concurrency',
        metric: `round time, ${label} (+ REPORT each; full TLS handshake on each measured connection; runs: ${runRatios(npRoundsS, curlRoundsS)})`,
        netprobe: npRoundS,
        reference: curlRoundS,
        referenceName: `curl, xargs -P ${CLIENTS}`,
        ratio: pairedRatio(npRoundsS, curlRoundsS),
        unit: 's (lower is better)',
        target: `≤ ${targets.roundRatio}×`,
      },
      {
        bench: 'concurrency',
        metric: `failures, ${label}`,
        netprobe: failures,
        reference: curl.reduce((n, r) => n + r.failures, 0),
        referenceName: 'curl',
        unit: `of ${CLIENTS * RUNS}`,
        target: '0',
      },
      {
        bench: 'concurrency',
        metric: `server peak RSS (VmHWM, primary + workers), ${label}`,
        netprobe: peakRssMiB,
        unit: 'MiB',
        target: `≤ ${targets.peakRssMiB}`,
      },
      {
        bench: 'concurrency',
        metric: `server CPU per round, ${label} (runs: ${runRatios(npCpusS, nginxCpusS)})`,
        netprobe: npCpuS,
        reference: nginxCpuS,
        referenceName: 'nginx',
        ratio: pairedRatio(npCpusS, nginxCpusS),
        unit: 'CPU s (lower is better)',
        target: `≤ ${targets.cpuRatio}×`,
      },
      {
        bench: 'concurrency',
        metric: `client CPU per round, ${label}`,
        netprobe: median(rounds.map((r) => r.clientCpuS)),
        reference: median(curl.map((r) => r.curlCpuS)),
        referenceName: `${CLIENTS} curl processes`,
        ratio: median(rounds.map((r) => r.clientCpuS)) / median(curl.map((r) => r.curlCpuS)),
        unit: 'CPU s (lower is better)',
      },
      {
        bench: 'concurrency',
        metric: `client time p50 / max, ${label}`,
        netprobe: median(rounds.map((r) => r.clientP50S)),
        reference: median(rounds.map((r) => r.clientMaxS)),
        referenceName: 'max',
        unit: 's',
      },
    ];
    // Like for like: nginx doing the same mutual TLS (it verifies each curl's own certificate).
    const nginxMtlsCpusS = curlMtls.map((r) => r.nginxCpuS);
    const nginxMtlsCpuS = median(nginxMtlsCpusS);
    const curlMtlsRoundsS = curlMtls.map((r) => r.roundS);
    const curlMtlsRoundS = median(curlMtls.map((r) => r.roundS));
    const mtlsFailures = curlMtls.reduce((n, r) => n + r.failures, 0);
    const mtlsName = `nginx with mutual TLS (${mtlsFailures} curl failures)`;
    rows.push(
      {
        bench: 'concurrency',
        metric: `server CPU per round, ${label}, against nginx verifying client certificates as netprobe does (runs: ${runRatios(npCpusS, nginxMtlsCpusS)})`,
        netprobe: npCpuS,
        reference: nginxMtlsCpuS,
        referenceName: mtlsName,
        ratio: pairedRatio(npCpusS, nginxMtlsCpusS),
        unit: 'CPU s (lower is better)',
      },
      {
        bench: 'concurrency',
        metric: `round time, ${label}, against curl+nginx with mutual TLS (runs: ${runRatios(npRoundsS, curlMtlsRoundsS)})`,
        netprobe: npRoundS,
        reference: curlMtlsRoundS,
        referenceName: `curl with client certificates, xargs -P ${CLIENTS}`,
        ratio: pairedRatio(npRoundsS, curlMtlsRoundsS),
        unit: 's (lower is better)',
      },
      {
        bench: 'concurrency',
        metric: `FLOOR server CPU per round (bare node:tls, mutual TLS), against nginx with mutual TLS (runs: ${runRatios(
          floor.map((r) => r.serverCpuS),
          nginxMtlsCpusS,
        )})`,
        netprobe: median(floor.map((r) => r.serverCpuS)),
        reference: nginxMtlsCpuS,
        referenceName: mtlsName,
        ratio: pairedRatio(
          floor.map((r) => r.serverCpuS),
          nginxMtlsCpusS,
        ),
        unit: 'CPU s (lower is better)',
      },
    );
    /** One more round's rows against the same references: round time, server CPU, client CPU (optional), peak RSS. */
    const roundRows = (round: Round, roundLabel: string, what: string, clientCpu: boolean): BenchRow[] => [
      {
        bench: 'concurrency',
        metric: `round time, ${roundLabel}`,
        netprobe: round.roundS,
        reference: curlRoundS,
        referenceName: `curl, xargs -P ${CLIENTS}`,
        ratio: round.roundS / curlRoundS,
        unit: 's (lower is better)',
      },
      {
        bench: 'concurrency',
        metric: `server CPU per round, ${label}, ${what}`,
        netprobe: round.serverCpuS,
        reference: nginxCpuS,
        referenceName: 'nginx',
        ratio: round.serverCpuS / nginxCpuS,
        unit: 'CPU s (lower is better)',
      },
      ...(clientCpu
        ? [
            {
              bench: 'concurrency',
              metric: `client CPU per round, ${label}, ${what}`,
              netprobe: round.clientCpuS,
              reference: median(curl.map((r) => r.curlCpuS)),
              referenceName: `${CLIENTS} curl processes`,
              ratio: round.clientCpuS / median(curl.map((r) => r.curlCpuS)),
              unit: 'CPU s (lower is better)',
            },
          ]
        : []),
      {
        bench: 'concurrency',
        metric: `server peak RSS (VmHWM, primary + workers), ${label}, ${what}`,
        netprobe: round.serverPeakRssMiB,
        unit: 'MiB',
      },
    ];
    // What the loaded-RTT connection (its resumed handshake, HELLO, PINGs) costs: the clients' default against `--loaded-ping-interval 0`.
    const noLoadedRttLabel = `${label}, without the loaded-RTT connection (client --loaded-ping-interval 0; ${noLoadedRttRound.failures} failures)`;
    rows.push(
      ...roundRows(resumedRound, resumedLabel, 'TLS sessions resumed', false),
      ...roundRows(noLoadedRttRound, noLoadedRttLabel, 'without the loaded-RTT connection', true),
      ...roundRows(
        coldRound,
        `${label}, a cold server (its first measurements: no warm-up; ${coldRound.failures} failures)`,
        'a cold server (no warm-up)',
        false,
      ),
    );
    const floorRows = (rounds: FloorRound[], what: string): BenchRow[] => {
      const cpusS = rounds.map((r) => r.serverCpuS);
      const cpuS = median(rounds.map((r) => r.serverCpuS));
      const roundS = median(rounds.map((r) => r.roundS));
      const failed = rounds.reduce((n, r) => n + r.failures, 0);
      return [
        {
          bench: 'concurrency',
          metric: `FLOOR server CPU per round: ${what}; per client only the handshake, 1 MiB sent, close (${CLIENTS} curl clients as nginx's; ${failed} failures)`,
          netprobe: cpuS,
          reference: nginxCpuS,
          referenceName: 'nginx',
          ratio: pairedRatio(cpusS, nginxCpusS),
          unit: 'CPU s (lower is better)',
        },
        {
          bench: 'concurrency',
          metric: `FLOOR round time: ${what}`,
          netprobe: roundS,
          reference: curlRoundS,
          referenceName: 'curl+nginx',
          ratio: pairedRatio(
            rounds.map((r) => r.roundS),
            curlRoundsS,
          ),
          unit: 's (lower is better)',
        },
      ];
    };
    rows.push(
      ...floorRows(floor, "bare node:tls server, the project's TLS options (mutual TLS, ECDSA P-256, TLS 1.3)"),
      ...floorRows(floorNoClientCert, 'the same without client certificates (as nginx: server-authenticated TLS)'),
    );
    if (busyRound) {
      rows.push({
        bench: 'concurrency',
        metric: `round time at the default limit (256 transfers; ${busyRound.busyRetries} BUSY retries, ${busyRound.failures} failures)`,
        netprobe: busyRound.roundS,
        reference: npRoundS,
        referenceName: `limit ${CLIENTS}`,
        ratio: busyRound.roundS / npRoundS,
        unit: 's (lower is better)',
      });
    }
    if (singleRound) {
      rows.push({
        bench: 'concurrency',
        metric: `round time with server --workers 1 (one process; ${singleRound.failures} failures${Object.keys(singleRound.codes).length > 0 ? `: ${Object.keys(singleRound.codes).join(', ')}` : ''})`,
        netprobe: singleRound.roundS,
        reference: npRoundS,
        referenceName: `--workers auto (${availableParallelism()} processes)`,
        ratio: singleRound.roundS / npRoundS,
        unit: 's (lower is better)',
      });
      rows.push({
        bench: 'concurrency',
        metric: 'server CPU per round / peak RSS with --workers 1',
        netprobe: singleRound.serverCpuS,
        reference: singleRound.serverPeakRssMiB,
        referenceName: 'MiB peak RSS',
        unit: 'CPU s',
      });
    }
    const pass =
      pairedRatio(npRoundsS, curlRoundsS) <= targets.roundRatio &&
      failures === 0 &&
      peakRssMiB <= targets.peakRssMiB &&
      pairedRatio(npCpusS, nginxCpusS) <= targets.cpuRatio;
    // `pass` tells bench/run.ts a missed target from a failure (exit 1 either way).
    await writeResult('concurrency', rows, {
      clients: CLIENTS,
      workers: WORKERS,
      serverWorkers: availableParallelism(),
      runs: RUNS,
      rounds,
      busyRound,
      singleRound,
      resumedRound,
      noLoadedRttRound,
      coldRound,
      curl,
      curlMtls,
      floor,
      floorNoClientCert,
      targets,
      pass,
    });
    if (!pass) {
      process.stderr.write('concurrency: target missed\n');
      process.exitCode = 1;
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--worker') {
  await worker(JSON.parse(process.argv[3]!) as WorkerTask);
} else if (import.meta.url === `file://${process.argv[1]}`) {
  printTable(await benchConcurrency());
}
