import { existsSync } from 'node:fs';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { AnalysisSummary } from '../analysis/types.js';
import { UsageError } from '../errors.js';
import { writeReport } from '../report/report.js';
import { openStore } from '../store/open.js';
import { demoTable } from './options/sim.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';
import { simulate } from './simulate.js';

/** Marks a folder as the demo's own, so a second run may wipe it and nothing else. */
const MARKER = '.netprobe-demo';

interface DemoFlags {
  dir: string;
  clients: number;
  durationMs: number;
  dayMs: number;
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
    lines.push(`most congested clients: ${worst.map((c) => `${c.client} (${c.episodes} episodes, median ${c.throughputMbps.median} Mbit/s)`).join(', ')}`);
  }
  return lines.join('\n');
}

export function registerDemo(program: Command): void {
  addOptions(
    program
      .command('demo')
      .description('the whole system in about a minute: certificates, a simulated fleet on a real server, the analysis and the report'),
    demoTable,
  )
    .action(async (opts: Record<string, unknown>) => {
      const flags = resolveOptions(demoTable, { flags: opts }) as unknown as DemoFlags;
      const dir = resolve(flags.dir);
      await prepareDir(dir);
      const out = (text: string) => process.stdout.write(`${text}\n`);
      out(`netprobe demo in ${dir}`);
      out(`1. simulating ${flags.clients} clients for ${flags.durationMs / 1000} s (${(flags.durationMs / flags.dayMs).toFixed(1)} simulated days, profile evening-peak): a real TLS server and the real client code on loopback`);
      const sim = await simulate({
        clients: flags.clients, durationMs: flags.durationMs, dayMs: flags.dayMs, profile: 'evening-peak', seed: flags.seed,
        out: join(dir, 'sim'), store: join(dir, 'netprobe.db'), file: '256KiB', logLevel: 'info',
      });
      out(`   ${sim.resultsMade} measurements made, ${sim.resultsStored} stored, ${sim.missing} missing; certificates in ${join(dir, 'sim', 'certs')}`);
      out('2. analysing and writing the report');
      const store = await openStore(join(dir, 'netprobe.db'), { readonly: true });
      let summary: AnalysisSummary;
      try {
        ({ summary } = await writeReport(store, { outDir: join(dir, 'report') }));
      } finally {
        await store.close();
      }
      out(headline(summary).split('\n').map((l) => `   ${l}`).join('\n'));
      out(`   truth (what the simulator was told): ${join(dir, 'sim', 'truth.json')}`);
      out(`3. report: ${join(dir, 'report', 'index.html')} (charts in report/charts, summary.json, results.csv)`);
      out(`\nnext: netprobe analyse --store ${join(dir, 'netprobe.db')}`);
      if (sim.missing > 0) process.exitCode = 1;
    });
}
