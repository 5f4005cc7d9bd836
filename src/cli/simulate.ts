import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { createLogger } from '../log.js';
import { loadProfile } from '../sim/profile.js';
import { runSimulation, type SimSummary } from '../sim/run.js';
import { simulateTable } from './options/sim.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

export interface SimulateFlags {
  clients: number;
  durationMs: number;
  dayMs: number;
  profile: string;
  seed: number;
  out: string;
  store?: string;
  file: string;
  sharedMbps?: number;
  logLevel: string;
}

/** Runs a simulation with a progress bar on a terminal (quiet otherwise) and prints the outcome. */
export async function simulate(flags: SimulateFlags): Promise<SimSummary> {
  const profile = loadProfile(flags.profile);
  const logger = createLogger({ level: flags.logLevel, stdout: false, file: join(flags.out, 'sim.log') });
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({
        format: 'simulating {bar} {percentage}% | {simTime} | active {active} | stored {stored}',
        hideCursor: true,
        stream: process.stderr,
      }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(100, 0, { simTime: '', active: 0, stored: 0 });
  try {
    const summary = await runSimulation({
      profile, clients: flags.clients, durationMs: flags.durationMs, dayMs: flags.dayMs, seed: flags.seed, outDir: flags.out,
      store: flags.store ?? join(flags.out, 'netprobe.db'), file: flags.file, sharedMbps: flags.sharedMbps, logger,
      onProgress: (p) => bar?.update(Math.round(p.fraction * 100), {
        simTime: new Date(p.simNowMs).toISOString().slice(0, 16).replace('T', ' '), active: p.activeClients, stored: p.resultsStored,
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
      .description('run many virtual clients (the real client code) against a real server under a time-varying load profile'),
    simulateTable,
  )
    .action(async (opts: Record<string, unknown>) => {
      const flags = resolveOptions(simulateTable, { flags: opts }) as unknown as SimulateFlags;
      const s = await simulate(flags);
      process.stdout.write(
        `${s.clients} virtual clients: ${s.resultsMade} measurements made (${s.skipped} skipped while busy), ` +
          `${s.resultsStored} stored, ${s.missing} missing${s.outagesRun ? `, ${s.outagesRun} outage(s) survived` : ''}\n` +
          `store: ${s.store}\ntruth: ${s.truthPath}\n`,
      );
      if (s.missing > 0) process.exitCode = 1;
    });
}
