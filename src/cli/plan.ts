import type { Command } from 'commander';
import { loadProfile } from '../sim/profile.js';
import { DISTURBED_BELOW, type LoadPlanHour, planLoad } from '../sim/load-plan.js';
import { formatDurationMs, formatSizeBytes } from '../units.js';
import { planTable } from './options/sim.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

interface PlanFlags {
  clients: number;
  sizeBytes: number;
  everyMs: number;
  linkMbps: number;
  profile: string;
  spanMs: number;
  seed: number;
  json?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;
const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;

function describe(h: LoadPlanHour): string {
  const speed =
    h.medianSpeedToAlone === null
      ? 'no downloads'
      : `median download at ${pct(h.medianSpeedToAlone)} of its undisturbed speed, ${pct(h.disturbedShare)} below ${DISTURBED_BELOW * 100} %`;
  return `${hh(h.hour)} UTC: ${h.measurementsPerDay} measurements a day, ${h.measurementMbps} Mbit/s = ${pct(h.linkShare)} of the link${h.linkShare > 1 ? ' (more than it carries)' : ''}; ${speed}; queue ${h.queueMs} ms`;
}

export function registerPlan(program: Command): void {
  addOptions(
    program
      .command('plan')
      .description(
        "how much of a link would a fleet's measurements take at the busiest hour, and how much would they slow each other down (model engine)",
      ),
    planTable,
  ).action((opts: Record<string, unknown>) => {
    const flags = resolveOptions(planTable, { flags: opts }) as unknown as PlanFlags;
    const plan = planLoad({ ...flags, profile: loadProfile(flags.profile) });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ ...flags, ...plan }, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `${flags.clients} clients, a ${formatSizeBytes(flags.sizeBytes)} download every ${formatDurationMs(flags.everyMs)} at full activity (profile ${flags.profile}), ` +
        `a ${flags.linkMbps} Mbit/s link, ${plan.days} simulated days, the measurements alone on it (model engine):\n` +
        `busiest hour   ${describe(plan.busiest)}\n` +
        (plan.heaviest.hour === plan.busiest.hour ? '' : `heaviest hour  ${describe(plan.heaviest)}\n`),
    );
  });
}
