import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { analyse } from '../analysis/analyse.js';
import { UsageError } from '../errors.js';
import { createLogger } from '../log.js';
import { type TruthCheck, checkTruth, formatTruthCheck } from '../sim/check.js';
import { truthForCheck } from '../sim/common.js';
import { loadProfile } from '../sim/profile.js';
import { checkSimOptions, runSimulation, type SimEngine, type SimOptions, type SimSummary } from '../sim/run.js';
import { openStore } from '../store/open.js';
import { simulateTable } from './options/sim.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

export interface SimulateFlags {
  engine: SimEngine;
  clients: number;
  durationMs: number;
  dayMs: number;
  spanMs?: number;
  everyMs: number;
  profile: string;
  seed: number;
  out: string;
  store?: string;
  file: string;
  sharedMbps?: number;
  kernelLink?: boolean;
  logLevel: string;
}

/** Analyses the run's store and compares it with its truth.json. */
export async function checkRun(summary: SimSummary): Promise<TruthCheck> {
  const truth = truthForCheck(JSON.parse(await readFile(summary.truthPath, 'utf8')) as Parameters<typeof truthForCheck>[0]);
  const store = await openStore(summary.store, { readonly: true });
  try {
    return checkTruth(await analyse(store), truth);
  } finally {
    await store.close();
  }
}

/** Runs a simulation with a progress bar on a terminal (quiet otherwise) and prints the outcome. */
export async function simulate(flags: SimulateFlags): Promise<SimSummary> {
  const profile = loadProfile(flags.profile);
  const options: Omit<SimOptions, 'logger' | 'onProgress'> = {
    engine: flags.engine,
    spanMs: flags.spanMs,
    peakRatePerHour: 3_600_000 / flags.everyMs,
    profile,
    clients: flags.clients,
    durationMs: flags.durationMs,
    dayMs: flags.dayMs,
    seed: flags.seed,
    outDir: flags.out,
    store: flags.store ?? join(flags.out, 'netprobe.db'),
    file: flags.file,
    sharedMbps: flags.sharedMbps,
    kernelLink: flags.kernelLink,
  };
  checkSimOptions(options);
  const logger = createLogger({ level: flags.logLevel, stdout: false, file: join(flags.out, 'sim.log') });
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          format: 'simulating {bar} {percentage}% | {simTime} | active {active} | stored {stored}',
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(100, 0, { simTime: '', active: 0, stored: 0 });
  try {
    const summary = await runSimulation({
      ...options,
      logger,
      onProgress: (p) =>
        bar?.update(Math.round(p.fraction * 100), {
          simTime: new Date(p.simNowMs).toISOString().slice(0, 16).replace('T', ' '),
          active: p.activeClients,
          stored: p.resultsStored,
        }),
    });
    bar?.update(100);
    return summary;
  } finally {
    bar?.stop();
    logger.flush();
  }
}

export function registerSimulate(program: Command): void {
  addOptions(
    program
      .command('simulate')
      .description(
        'simulate a fleet under a time-varying load profile: a network model (default) or real transfers; a real server stores the results',
      ),
    simulateTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(simulateTable, { flags: opts }) as unknown as SimulateFlags;
    if (flags.engine === 'real' && flags.clients > 5000) throw new UsageError('--clients: the real engine runs at most 5000 clients');
    const s = await simulate(flags);
    process.stdout.write(
      `${s.engine} engine, ${s.clients} virtual clients: ${s.measurementsPlanned} planned, ${s.resultsMade} measurements made (${s.skipped} skipped while busy), ` +
        `${s.resultsStored} stored, ${s.missing} missing${s.outagesRun ? `, ${s.outagesRun} outage(s) survived` : ''}\n` +
        `${formatTruthCheck(await checkRun(s))}\n` +
        `store: ${s.store}\ntruth: ${s.truthPath}\n`,
    );
    if (s.missing > 0) process.exitCode = 1;
  });
}
