/**
 * `netprobe analyse` at scale: builds stores of 1M and 10M synthetic results (100k with --quick)
 * in a temporary directory, analyses each in a fresh child process (so peak RSS is the analysis
 * alone, not the load), and writes bench/results/analyse.json plus a table.
 * Targets: 1M results analysed in under 3 s; 10M with peak RSS under 1 GiB.
 *
 *   node --import tsx bench/analyse.ts [--quick] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse } from '../src/analysis/analyse.js';
import { toStableJson } from '../src/analysis/json.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { type BenchRow, QUICK, printTable, writeResult } from './lib.js';
import { buildSyntheticStore } from './synthetic-results.js';

const MiB = 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));

interface Case {
  results: number;
  clients: number;
  target: { analyseMs?: number; peakRssBytes?: number };
}

interface ChildReport {
  analyseMs: number;
  jsonMs: number;
  peakRssBytes: number;
  startRssBytes: number;
  clients: number;
  episodes: number;
  networkEpisodes: number;
  jsonBytes: number;
}

/** In the child: analyse one store as the CLI would (time zone, JSON) and report. */
async function child(path: string): Promise<void> {
  const store = new SqliteStore(path, { readonly: true });
  const startRssBytes = process.memoryUsage().rss;
  const t0 = performance.now();
  const summary = await analyse(store, { timeZone: 'Europe/Berlin' });
  const t1 = performance.now();
  const json = toStableJson(summary);
  const t2 = performance.now();
  await store.close();
  const report: ChildReport = {
    analyseMs: Math.round(t1 - t0),
    jsonMs: Math.round(t2 - t1),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    startRssBytes,
    clients: summary.clients.length,
    episodes: summary.episodes.length,
    networkEpisodes: summary.networkEpisodes.length,
    jsonBytes: Buffer.byteLength(json),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function runCase(dir: string, c: Case) {
  const path = join(dir, `results-${c.results}.db`);
  const t0 = performance.now();
  buildSyntheticStore(path, { results: c.results, clients: c.clients, intervalMs: 300_000, startMs: Date.UTC(2025, 0, 6) });
  const buildMs = Math.round(performance.now() - t0);
  const dbBytes = statSync(path).size;
  const run = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', path], {
    cwd: join(here, '..'),
    encoding: 'utf8',
    maxBuffer: 16 * MiB,
  });
  if (run.status !== 0) throw new Error(`analysis of ${c.results} results failed: ${run.stderr}`);
  const report = JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildReport;
  rmSync(path, { force: true });
  const pass =
    (c.target.analyseMs === undefined || report.analyseMs < c.target.analyseMs) &&
    (c.target.peakRssBytes === undefined || report.peakRssBytes < c.target.peakRssBytes);
  return { ...c, buildMs, dbBytes, ...report, pass };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]!);
  const cases: Case[] = QUICK
    ? [{ results: 100_000, clients: 20, target: { analyseMs: 3_000, peakRssBytes: 1024 * MiB } }]
    : [
        { results: 1_000_000, clients: 100, target: { analyseMs: 3_000 } },
        { results: 10_000_000, clients: 200, target: { peakRssBytes: 1024 * MiB } },
      ];
  const dir = mkdtempSync(join(tmpdir(), 'netprobe-bench-analyse-'));
  const runs = [];
  try {
    for (const c of cases) {
      process.stderr.write(`building and analysing ${c.results} results …\n`);
      runs.push(runCase(dir, c));
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
  const rows: BenchRow[] = runs.flatMap((r) => {
    const label = `${r.results.toLocaleString('en')} results, ${r.clients} clients`;
    return [
      {
        bench: 'analyse',
        metric: `analysis time, ${label}`,
        netprobe: r.analyseMs / 1000,
        unit: 's',
        target: r.target.analyseMs ? `< ${r.target.analyseMs / 1000}` : undefined,
      },
      {
        bench: 'analyse',
        metric: `peak RSS, ${label}`,
        netprobe: r.peakRssBytes / MiB,
        unit: 'MiB',
        target: r.target.peakRssBytes ? `< ${r.target.peakRssBytes / MiB}` : undefined,
      },
      { bench: 'analyse', metric: `store build (not the analysis), ${label}`, netprobe: r.buildMs / 1000, unit: 's' },
    ];
  });
  await writeResult('analyse', rows, { runs, pass: runs.every((r) => r.pass) });
  printTable(rows);
  process.stdout.write(`${runs.every((r) => r.pass) ? 'all targets met' : 'TARGET MISSED'}; written to bench/results/analyse.json\n`);
  if (runs.some((r) => !r.pass)) process.exitCode = 1;
}

await main();
