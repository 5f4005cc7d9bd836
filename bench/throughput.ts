/**
 * Throughput over TLS on loopback: netprobe server → netprobe client against nginx (HTTPS, TLS 1.3,
 * the same certificate) → curl, in the same run. One download and 8 at once; CPU seconds per GB.
 * The netprobe server runs with `--workers auto` (one worker process per core, as nginx's
 * `worker_processes auto`); its CPU is summed over the primary and the workers. Like for like:
 * `--verify none` (TLS's integrity only) against curl, `--verify sha256` against curl | sha256sum.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BenchRow,
  QUICK,
  execFileAsync,
  freePort,
  median,
  processTree,
  printTable,
  shellQuote,
  spawnReady,
  timed,
  timedShell,
  totalCpuSeconds,
  writeNginxConfig,
  writeRandomFile,
  writeResult,
} from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const SIZE = QUICK ? 128 * 2 ** 20 : 2 ** 30;
const RUNS = QUICK ? 1 : 3;
const PARALLEL = 8;
type Verify = 'sha256' | 'none';

export async function benchThroughput(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-tp-'));
  const files = join(dir, 'files');
  await mkdir(files);
  await writeRandomFile(join(files, 'big.bin'), SIZE);
  await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', join(dir, 'certs')]);
  await execFileAsync(process.execPath, [CLI, 'certs', 'client', 'bench', '--dir', join(dir, 'certs')]);
  const certs = join(dir, 'certs');

  const server = await spawnReady(
    process.execPath,
    [
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
      files,
      '--builtin-files',
      '',
      '--store',
      join(dir, 'bench.db'),
      '--log-level',
      'info',
      '--stats-interval',
      '0',
      '--workers',
      'auto',
    ],
    (l) => l.includes('"listening"'),
  );
  const npPort = (JSON.parse(server.line) as { port: number }).port;
  const serverPids = () => processTree(server.child.pid!);

  const nginxPort = await freePort();
  const nginxArgs = await writeNginxConfig({
    prefix: join(dir, 'nginx'),
    listen: `127.0.0.1:${nginxPort}`,
    cert: join(certs, 'server.crt'),
    key: join(certs, 'server.key'),
    root: files,
    workers: 'auto',
    connections: 1024,
  });
  const nginx = spawn('nginx', nginxArgs, { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await execFileAsync('curl', ['-s', '-o', '/dev/null', '--cacert', join(certs, 'ca.crt'), `https://localhost:${nginxPort}/`]);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // The master and its workers (the workers' command lines do not name the config file).
  const nginxPids = () => processTree(nginx.pid!);

  const clientArgs = (outbox: string, verify: Verify) => [
    CLI,
    'client',
    '--once',
    '--json',
    '--verify',
    verify,
    '--server',
    `127.0.0.1:${npPort}`,
    '--ca',
    join(certs, 'ca.crt'),
    '--cert',
    join(certs, 'clients', 'bench.crt'),
    '--key',
    join(certs, 'clients', 'bench.key'),
    '--file',
    'big.bin',
    '--outbox',
    outbox,
    '--log-level',
    'warn',
  ];
  const curlArgs = [
    '-s',
    '-o',
    '/dev/null',
    '--cacert',
    join(certs, 'ca.crt'),
    '--tlsv1.3',
    '-w',
    '%{size_download} %{time_starttransfer} %{time_total}',
    `https://localhost:${nginxPort}/big.bin`,
  ];

  async function netprobeOnce(parallel: number, verify: Verify) {
    const pids = await serverPids();
    const serverCpu0 = totalCpuSeconds(pids);
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: parallel }, (_, i) => timed(process.execPath, clientArgs(join(dir, `outbox-${i}.db`), verify))),
    );
    const wallS = (performance.now() - t0) / 1000;
    const results = runs.map(
      (r) => JSON.parse(r.stdout.trim().split('\n')[0]!) as { throughputMbps: number; bytes: number; cpuMs: number; error: unknown },
    );
    if (results.some((r) => r.error)) throw new Error(`netprobe download failed: ${JSON.stringify(results.find((r) => r.error))}`);
    const bytes = results.reduce((n, r) => n + r.bytes, 0);
    return {
      // Aggregate = sum of each download's own throughput (first to last byte): process start-up
      // (node's is ~0.1 s CPU, curl's ~0) would otherwise count against the slower starter.
      mbps: results.reduce((n, r) => n + r.throughputMbps, 0),
      wallMbps: (bytes * 8) / wallS / 1e6,
      clientCpuPerGB: runs.reduce((n, r) => n + r.cpuSeconds, 0) / (bytes / 1e9),
      // The client's own cpuMs: first to last payload byte, without node's start-up and the report.
      clientTransferCpuPerGB: results.reduce((n, r) => n + r.cpuMs / 1000, 0) / (bytes / 1e9),
      serverCpuPerGB: (totalCpuSeconds(pids) - serverCpu0) / (bytes / 1e9),
    };
  }
  // With `hash`, curl's output goes through sha256sum: the same integrity work netprobe's client does.
  const hashedCurl =
    shellQuote(['curl', ...curlArgs.map((a) => (a.startsWith('%{size') ? `%{stderr}${a}\\n` : a === '/dev/null' ? '-' : a))]) +
    ' | sha256sum >/dev/null';
  async function nginxOnce(parallel: number, hash = false) {
    const pids = await nginxPids();
    const cpu0 = totalCpuSeconds(pids);
    const t0 = performance.now();
    const runs = await Promise.all(
      Array.from({ length: parallel }, () =>
        hash ? timedShell(hashedCurl).then((r) => ({ stdout: r.stderr, cpuSeconds: r.cpuSeconds })) : timed('curl', curlArgs),
      ),
    );
    const wallS = (performance.now() - t0) / 1000;
    const parsed = runs.map((r) => r.stdout.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number]);
    const bytes = parsed.reduce((n, [b]) => n + b, 0);
    return {
      // First to last byte, as netprobe's throughput is defined.
      mbps: parsed.reduce((n, [b, start, total]) => n + (b * 8) / (total - start) / 1e6, 0),
      wallMbps: (bytes * 8) / wallS / 1e6,
      clientCpuPerGB: runs.reduce((n, r) => n + r.cpuSeconds, 0) / (bytes / 1e9),
      serverCpuPerGB: (totalCpuSeconds(pids) - cpu0) / (bytes / 1e9),
    };
  }

  const rows: BenchRow[] = [];
  try {
    for (const parallel of [1, PARALLEL]) {
      const np = [];
      const npHash = [];
      const ng = [];
      const ngHash = [];
      for (let i = 0; i < RUNS; i++) {
        np.push(await netprobeOnce(parallel, 'none'));
        ng.push(await nginxOnce(parallel));
        npHash.push(await netprobeOnce(parallel, 'sha256'));
        ngHash.push(await nginxOnce(parallel, true));
      }
      const label = parallel === 1 ? `1 download of ${SIZE / 2 ** 20} MiB` : `${parallel} concurrent downloads (aggregate)`;
      const downloads = parallel === 1 ? '1 download' : `${parallel} downloads`;
      const npMbps = median(np.map((r) => r.mbps));
      const ngMbps = median(ng.map((r) => r.mbps));
      rows.push({
        bench: 'throughput',
        metric: `${label}, TLS integrity only (--verify none)`,
        netprobe: npMbps,
        reference: ngMbps,
        referenceName: 'nginx+curl',
        ratio: npMbps / ngMbps,
        unit: 'Mbit/s',
        target: '≥ 1.0×',
      });
      const npHashMbps = median(npHash.map((r) => r.mbps));
      const ngHashMbps = median(ngHash.map((r) => r.mbps));
      rows.push({
        bench: 'throughput',
        metric: `${label}, both verifying SHA-256`,
        netprobe: npHashMbps,
        reference: ngHashMbps,
        referenceName: 'nginx+curl|sha256sum',
        ratio: npHashMbps / ngHashMbps,
        unit: 'Mbit/s',
        target: '≥ 1.0×',
      });
      rows.push({
        bench: 'throughput',
        metric: `${label}, netprobe verifying SHA-256 (default), curl not`,
        netprobe: npHashMbps,
        reference: ngMbps,
        referenceName: 'nginx+curl',
        ratio: npHashMbps / ngMbps,
        unit: 'Mbit/s',
      });
      const npServer = median(np.map((r) => r.serverCpuPerGB));
      const ngServer = median(ng.map((r) => r.serverCpuPerGB));
      rows.push({
        bench: 'throughput',
        metric: `server CPU per GB, ${downloads}`,
        netprobe: npServer,
        reference: ngServer,
        referenceName: 'nginx',
        ratio: npServer / ngServer,
        unit: 'CPU s/GB (lower is better)',
      });
      const npClient = median(np.map((r) => r.clientCpuPerGB));
      const ngClient = median(ng.map((r) => r.clientCpuPerGB));
      rows.push({
        bench: 'throughput',
        metric: `client CPU per GB, ${downloads}, --verify none (whole process)`,
        netprobe: npClient,
        reference: ngClient,
        referenceName: 'curl',
        ratio: npClient / ngClient,
        unit: 'CPU s/GB (lower is better)',
      });
      const npTransfer = median(np.map((r) => r.clientTransferCpuPerGB));
      rows.push({
        bench: 'throughput',
        metric: `client CPU per GB during the transfer (no start-up), ${downloads}, --verify none`,
        netprobe: npTransfer,
        reference: ngClient,
        referenceName: 'curl, whole process',
        ratio: npTransfer / ngClient,
        unit: 'CPU s/GB (lower is better)',
      });
      const npHashTransfer = median(npHash.map((r) => r.clientTransferCpuPerGB));
      const ngHashClient = median(ngHash.map((r) => r.clientCpuPerGB));
      rows.push({
        bench: 'throughput',
        metric: `client CPU per GB during the transfer, ${downloads}, --verify sha256`,
        netprobe: npHashTransfer,
        reference: ngHashClient,
        referenceName: 'curl + sha256sum, whole processes',
        ratio: npHashTransfer / ngHashClient,
        unit: 'CPU s/GB (lower is better)',
      });
    }
  } finally {
    server.child.kill('SIGTERM');
    nginx.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await rm(dir, { recursive: true, force: true });
  }
  await writeResult('throughput', rows, { sizeBytes: SIZE, runs: RUNS });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) printTable(await benchThroughput());
