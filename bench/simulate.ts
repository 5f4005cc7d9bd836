/**
 * How far one machine goes with the simulator: for growing fleets, the share of planned
 * measurements that ran (the rest were skipped because the previous one of that client was still
 * running: the machine, not the profile, limited them) and the CPU the whole run took.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, QUICK, printTable, timed, writeResult } from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const FLEETS = QUICK ? [25] : [50, 200, 500];
const DURATION_S = QUICK ? 10 : 30;

export async function benchSimulate(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const details: Record<string, unknown>[] = [];
  for (const clients of FLEETS) {
    const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-sim-'));
    try {
      // A flat profile; a 96 s day makes the simulator's 2 measurements per simulated hour one
      // measurement per client every 2 s of real time on average, so N clients ask N/2 a second.
      const { stdout, cpuSeconds } = await timed(process.execPath, [CLI, 'simulate', '--clients', String(clients), '--duration', `${DURATION_S}s`,
        '--day', '96s', '--profile', 'flat', '--file', '256KiB', '--out', dir, '--shared-mbps', String(clients * 100)]);
      const m = /(\d+) measurements made \((\d+) skipped while busy\), (\d+) stored, (\d+) missing/.exec(stdout);
      if (!m) throw new Error(`unexpected simulate output: ${stdout}`);
      const [made, skipped, stored, missing] = m.slice(1).map(Number) as [number, number, number, number];
      const completed = made / (made + skipped);
      details.push({ clients, made, skipped, stored, missing, cpuSeconds, durationS: DURATION_S });
      rows.push({ bench: 'simulate', metric: `${clients} clients (${clients / 2} measurements/s asked): planned measurements run`, netprobe: completed * 100, unit: '%', target: '≥ 95 %' });
      rows.push({ bench: 'simulate', metric: `${clients} clients: CPU use`, netprobe: (cpuSeconds / DURATION_S / cpus().length) * 100, unit: `% of ${cpus().length} cores` });
      if (missing > 0) throw new Error(`${missing} results missing with ${clients} clients`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await writeResult('simulate', rows, { runs: details });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) printTable(await benchSimulate());
