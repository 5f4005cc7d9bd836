import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { AnalysisSummary } from '../analysis/types.js';
import { UsageError } from '../errors.js';
import { writeReport } from '../report/report.js';
import { formatDurationMs } from '../units.js';
import { openStore } from '../store/open.js';
import { demoTable } from './options/sim.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';
import { formatTruthCheck } from '../sim/check.js';
import { checkRun, simulate } from './simulate.js';

/** Marks a folder as the demo's own, so a second run may wipe it and nothing else. */
const MARKER = '.netprobe-demo';

interface DemoFlags {
  dir: string;
  clients: number;
  spanMs: number;
  realClients: number;
  realDurationMs: number;
  seed: number;
}

async function prepareDir(dir: string): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new UsageError(`${dir} exists and is not a netprobe demo folder; choose another --dir`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
  await writeFile(join(dir, MARKER), 'created by netprobe demo; the next demo run replaces this folder\n');
}

const hh = (h: number | null) => (h === null ? 'n/a' : `${String(h).padStart(2, '0')}:00`);

/** The headline findings, in words. */
export function headline(s: AnalysisSummary): string {
  const lines = [
    `results: ${s.totals.downloads} downloads from ${s.clients.length} clients, ${s.totals.failed} failed`,
    `busiest hour (UTC): ${hh(s.busiestHour.hour)} (${s.busiestHour.confidence} confidence) — ${s.busiestHour.reason}`,
    `most congested hour (UTC): ${hh(s.mostCongestedHour.hour)} (${s.mostCongestedHour.confidence} confidence) — ${s.mostCongestedHour.reason}`,
    `congestion episodes: ${s.episodes.length} on single clients, ${s.networkEpisodes.length} network-wide`,
  ];
  const worst = [...s.clients]
    .filter((c) => c.episodes > 0)
    .sort((a, b) => b.episodes - a.episodes || (b.throughputMbps.cv ?? 0) - (a.throughputMbps.cv ?? 0))
    .slice(0, 3);
  if (worst.length > 0) {
    lines.push(
      `most congested clients: ${worst.map((c) => `${c.client} (${c.episodes} episodes, median ${c.throughputMbps.median} Mbit/s)`).join(', ')}`,
    );
  }
  return lines.join('\n');
}

async function reportOf(storePath: string, outDir: string): Promise<AnalysisSummary> {
  const store = await openStore(storePath, { readonly: true });
  try {
    return (await writeReport(store, { outDir })).summary;
  } finally {
    await store.close();
  }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `   ${l}`)
    .join('\n');
/** The real run's clock: a simulated hour lasts 5 s, so a 64 KiB download stays far below 5 % of it. */
const REAL_DAY_MS = 120_000;

export function registerDemo(program: Command): void {
  addOptions(
    program
      .command('demo')
      .description(
        'the whole system in about a minute: a modelled fleet over a simulated week (analysis, truth check, report), then a short run of real clients over real TLS',
      ),
    demoTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(demoTable, { flags: opts }) as unknown as DemoFlags;
    const dir = resolve(flags.dir);
    await prepareDir(dir);
    const out = (text: string) => process.stdout.write(`${text}\n`);
    out(`netprobe demo in ${dir}`);
    out(
      `1. MODEL ENGINE: ${flags.clients} virtual clients over ${formatDurationMs(flags.spanMs)} of simulated time (profile evening-peak). The network`,
    );
    out('   is computed (max-min sharing of a shared link whose capacity and background load follow the profile); every result');
    out('   goes through the real outbox and reporter, over mutual TLS, to a real server and into the store.');
    const sim = await simulate({
      engine: 'model',
      clients: flags.clients,
      spanMs: flags.spanMs,
      everyMs: 3_600_000,
      durationMs: flags.spanMs,
      dayMs: 86_400_000,
      profile: 'evening-peak',
      seed: flags.seed,
      out: join(dir, 'model'),
      store: join(dir, 'netprobe.db'),
      file: '1MiB',
      logLevel: 'info',
    });
    out(
      `   ${sim.measurementsPlanned} planned, ${sim.resultsMade} measurements made, ${sim.resultsStored} stored, ${sim.missing} missing; certificates in ${join(dir, 'model', 'certs')}`,
    );
    out('2. analysing the model run and writing the report');
    const summary = await reportOf(join(dir, 'netprobe.db'), join(dir, 'report'));
    out(indent(headline(summary)));
    out(`   ${formatTruthCheck(await checkRun(sim))}`);
    out(`   truth (what the model did, hour by hour): ${join(dir, 'model', 'truth.json')}`);
    out(`   report: ${join(dir, 'report', 'index.html')} (charts in report/charts, summary.json, results.csv)`);
    let realMissing = 0;
    if (flags.realClients > 0) {
      out(
        `3. REAL ENGINE: ${flags.realClients} real clients for ${formatDurationMs(flags.realDurationMs)}: real TLS downloads from a real server on loopback,`,
      );
      out(
        `   paced by token buckets, on a clock where a simulated day lasts ${formatDurationMs(REAL_DAY_MS)} (profile flat); results in their own store.`,
      );
      const real = await simulate({
        engine: 'real',
        clients: flags.realClients,
        durationMs: flags.realDurationMs,
        dayMs: REAL_DAY_MS,
        everyMs: 3_600_000,
        profile: 'flat',
        seed: flags.seed,
        out: join(dir, 'real'),
        store: join(dir, 'real.db'),
        file: '64KiB',
        logLevel: 'info',
      });
      realMissing = real.missing;
      out(
        `   ${real.measurementsPlanned} planned, ${real.resultsMade} measurements made (${real.skipped} skipped while busy), ${real.resultsStored} stored, ${real.missing} missing`,
      );
      out(`   store: ${join(dir, 'real.db')}`);
    }
    out(`\nnext: netprobe analyse --store ${join(dir, 'netprobe.db')}`);
    if (sim.missing > 0 || realMissing > 0) process.exitCode = 1;
  });
}
