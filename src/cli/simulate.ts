import { join } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { createLogger } from '../log.js';
import { loadProfile } from '../sim/profile.js';
import { runSimulation, type SimSummary } from '../sim/run.js';
import { parseDurationMs, parseInteger } from '../units.js';
import { asArg } from './args.js';

export interface SimulateFlags {
  clients: number;
  duration: number;
  day: number;
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
      profile, clients: flags.clients, durationMs: flags.duration, dayMs: flags.day, seed: flags.seed, outDir: flags.out,
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
  program
    .command('simulate')
    .description('run many virtual clients (the real client code) against a real server under a time-varying load profile')
    .option('--clients <n>', 'virtual clients', asArg((t) => parseInteger(t, 'clients', 1, 5000)), 50)
    .option('--duration <duration>', 'real run time', asArg((t) => parseDurationMs(t, 'duration')), 180_000)
    .option('--day <duration>', 'real time of one simulated day', asArg((t) => parseDurationMs(t, 'day')), 60_000)
    .option('--profile <name|file>', 'flat, evening-peak, business-hours, double-peak, outage, or a JSON/YAML file', 'evening-peak')
    .option('--seed <n>', 'seed for schedules and access-link caps', asArg((t) => parseInteger(t, 'seed')), 42)
    .option('--out <dir>', 'truth.json, certificates, client outboxes, sim.log', 'sim')
    .option('--store <location>', 'SQLite file or postgres://… URL for the results (default OUT/netprobe.db)')
    .option('--file <name>', 'test file the clients download', '1MiB')
    .option('--shared-mbps <n>', 'shared link capacity at full availability (default 4 per client, at least 50)', asArg((t) => parseInteger(t, 'shared Mbit/s', 1)))
    .option('--log-level <level>', 'log level of OUT/sim.log', 'info')
    .action(async (flags: SimulateFlags) => {
      const s = await simulate(flags);
      process.stdout.write(
        `${s.clients} virtual clients: ${s.resultsMade} measurements made (${s.skipped} skipped while busy), ` +
          `${s.resultsStored} stored, ${s.missing} missing${s.outagesRun ? `, ${s.outagesRun} outage(s) survived` : ''}\n` +
          `store: ${s.store}\ntruth: ${s.truthPath}\n`,
      );
      if (s.missing > 0) process.exitCode = 1;
    });
}
