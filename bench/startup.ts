/**
 * Start-up and memory of `netprobe server` as an operator runs it: default built-in files
 * (1MiB, 10MiB, 100MiB), `--workers auto` (one process serving TLS per core: the primary and
 * the workers it forks). Measures the time from spawn to the `listening` log line (median of RUNS
 * starts) and the CPU the process tree spent until then; then each process's RSS right after start
 * and peak RSS (VmHWM) after clients downloaded the 100 MiB file several times. Memory must not grow
 * with the core count: a worker holds one random block, not the files.
 *
 *   node --import tsx bench/startup.ts [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  QUICK,
  type BenchRow,
  execFileAsync,
  median,
  peakRssBytes,
  printTable,
  processTree,
  spawnReady,
  totalCpuSeconds,
  writeResult,
} from './lib.js';

const CLI = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const RUNS = QUICK ? 3 : 7;
const DOWNLOADS = QUICK ? 2 : 6;
const MiB = 2 ** 20;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const dir = await mkdtemp(join(tmpdir(), 'netprobe-startup-'));
try {
  const certs = join(dir, 'certs');
  await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', certs]);
  await execFileAsync(process.execPath, [CLI, 'certs', 'client', 'bench', '--dir', certs]);
  const serverArgs = (i: number) => [
    CLI,
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--store',
    join(dir, `n${i}.db`),
    '--stats-interval',
    '0',
    '--ca',
    join(certs, 'ca.crt'),
    '--cert',
    join(certs, 'server.crt'),
    '--key',
    join(certs, 'server.key'),
  ];

  const startMs: number[] = [];
  const startCpu: number[] = [];
  let workers = 0;
  let rssAfterStart: number[] = [];
  let primaryRss = 0;
  let primaryPeakRss = 0;
  let peakWorkerRss: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const { child, line } = await spawnReady(process.execPath, serverArgs(i), (l) => l.includes('"msg":"listening"'), 30_000);
    startMs.push(performance.now() - t0);
    const tree = await processTree(child.pid!);
    startCpu.push(totalCpuSeconds(tree));
    const workerPids = tree.slice(1);
    workers = workerPids.length;
    if (i === RUNS - 1) {
      rssAfterStart = workerPids.map(rssBytes);
      primaryRss = rssBytes(child.pid!);
      const { port } = JSON.parse(line) as { port: number };
      for (let d = 0; d < DOWNLOADS; d += 2) {
        // Two at once, so both serving processes are likely to serve some.
        await Promise.all(
          [0, 1].map(() =>
            execFileAsync(
              process.execPath,
              [
                CLI,
                'client',
                '-s',
                `127.0.0.1:${port}`,
                '--ca',
                join(certs, 'ca.crt'),
                '--cert',
                join(certs, 'clients', 'bench.crt'),
                '--key',
                join(certs, 'clients', 'bench.key'),
                '--file',
                '100MiB',
                '--once',
                '--json',
                '--outbox',
                join(dir, `outbox-${d}.db`),
              ],
              { maxBuffer: 16 * MiB },
            ),
          ),
        );
      }
      peakWorkerRss = workerPids.map(peakRssBytes);
      primaryPeakRss = peakRssBytes(child.pid!);
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }

  const max = (xs: number[]) => Math.max(...xs);
  const rows: BenchRow[] = [
    {
      bench: 'startup',
      metric: `spawn to listening, default files, --workers auto (the primary and ${workers} forked worker${workers === 1 ? '' : 's'}), median of ${RUNS}`,
      netprobe: median(startMs),
      unit: 'ms (lower is better)',
      target: '< 1000',
    },
    {
      bench: 'startup',
      metric: 'CPU of primary + workers until listening, median',
      netprobe: median(startCpu),
      unit: 'CPU s (lower is better)',
    },
    {
      bench: 'startup',
      metric: 'RSS per forked worker after start (largest worker)',
      netprobe: max(rssAfterStart) / MiB,
      unit: 'MiB',
      target: '< 80',
    },
    {
      bench: 'startup',
      metric: `peak RSS per forked worker after ${DOWNLOADS} downloads of 100 MiB (largest worker)`,
      netprobe: max(peakWorkerRss) / MiB,
      unit: 'MiB',
      target: '< 80',
    },
    {
      bench: 'startup',
      metric: 'RSS of the primary after start (store, dashboard, metrics, its own worker)',
      netprobe: primaryRss / MiB,
      unit: 'MiB',
    },
    {
      bench: 'startup',
      metric: `peak RSS of the primary after ${DOWNLOADS} downloads of 100 MiB (it serves some)`,
      netprobe: primaryPeakRss / MiB,
      unit: 'MiB',
    },
  ];
  printTable(rows);
  // The machine is shared: a start measured under load says so.
  const pass = median(startMs) < 1000 && max(peakWorkerRss) < 80 * MiB;
  // `pass` tells bench/run.ts a missed target from a failure (exit 1 either way).
  await writeResult('startup', rows, { cores: cpus().length, loadAverage1m: loadavg()[0], startMs, startCpu, pass });
  if (!pass) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
