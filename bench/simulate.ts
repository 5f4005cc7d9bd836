/**
 * How far one machine goes with the simulator (issue #23's targets):
 * - model engine: 10,000 clients × 7 simulated days in < 60 s on 2 cores, ≥ 99 % of planned
 *   measurements made and 100 % stored exactly once (the results travel the real reporting path);
 * - real engine: 200 clients, ≥ 95 % of planned measurements run (the rest were skipped because that
 *   client's previous one still ran: the machine, not the profile, limited them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchRow, QUICK, printTable, timed, writeResult } from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const MODEL = QUICK ? { clients: 1_000, span: '2d' } : { clients: 10_000, span: '7d' };
const REAL = QUICK ? { clients: 25, durationS: 10 } : { clients: 200, durationS: 30 };

interface Outcome {
  planned: number;
  made: number;
  skipped: number;
  stored: number;
  missing: number;
  wallSeconds: number;
  cpuSeconds: number;
}

async function run(args: string[]): Promise<Outcome> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-sim-'));
  try {
    const t0 = performance.now();
    const { stdout, cpuSeconds } = await timed(process.execPath, [CLI, 'simulate', ...args, '--out', dir]);
    const wallSeconds = (performance.now() - t0) / 1000;
    const m = /(\d+) planned, (\d+) measurements made \((\d+) skipped while busy\), (\d+) stored, (\d+) missing/.exec(stdout);
    if (!m) throw new Error(`unexpected simulate output: ${stdout}`);
    const [planned, made, skipped, stored, missing] = m.slice(1).map(Number) as [number, number, number, number, number];
    return { planned, made, skipped, stored, missing, wallSeconds, cpuSeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchSimulate(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const cores = cpus().length;
  // A 2 h mean gap at peak: ~40 results per client-week of evening-peak, what ingest carries in the time.
  const model = await run(['--clients', String(MODEL.clients), '--span', MODEL.span, '--every', '2h', '--profile', 'evening-peak']);
  const label = `model ${MODEL.clients} clients × ${MODEL.span}`;
  rows.push({
    bench: 'simulate',
    metric: `${label}: run time (${model.made} results)`,
    netprobe: model.wallSeconds,
    unit: 's',
    target: '< 60 s',
  });
  rows.push({
    bench: 'simulate',
    metric: `${label}: planned measurements made`,
    netprobe: (model.made / model.planned) * 100,
    unit: '%',
    target: '≥ 99 %',
  });
  rows.push({
    bench: 'simulate',
    metric: `${label}: stored exactly once`,
    netprobe: model.missing === 0 && model.stored === model.made ? 100 : ((model.made - model.missing) / model.made) * 100,
    unit: '%',
    target: '100 %',
  });
  rows.push({ bench: 'simulate', metric: `${label}: results per second`, netprobe: model.made / model.wallSeconds, unit: 'results/s' });
  rows.push({
    bench: 'simulate',
    metric: `${label}: CPU use`,
    netprobe: (model.cpuSeconds / model.wallSeconds / cores) * 100,
    unit: `% of ${cores} cores`,
  });

  // 64 KiB at the slowest cap (10 Mbit/s) is 52 ms, 1.3 % of a 4 s simulated hour (--day 96s).
  const real = await run([
    '--engine',
    'real',
    '--clients',
    String(REAL.clients),
    '--duration',
    `${REAL.durationS}s`,
    '--day',
    '96s',
    '--every',
    '2h',
    '--profile',
    'flat',
    '--file',
    '64KiB',
    '--shared-mbps',
    String(REAL.clients * 100),
  ]);
  const realLabel = `real ${REAL.clients} clients (${(REAL.clients / 8).toFixed(1)} measurements/s asked)`;
  rows.push({
    bench: 'simulate',
    metric: `${realLabel}: planned measurements run`,
    netprobe: (real.made / real.planned) * 100,
    unit: '%',
    target: '≥ 95 %',
  });
  rows.push({
    bench: 'simulate',
    metric: `${realLabel}: CPU use`,
    netprobe: (real.cpuSeconds / REAL.durationS / cores) * 100,
    unit: `% of ${cores} cores`,
  });
  await writeResult('simulate', rows, { runs: { model: { ...MODEL, ...model }, real: { ...REAL, ...real } } });
  if (model.missing > 0 || real.missing > 0) throw new Error(`results missing: model ${model.missing}, real ${real.missing}`);
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) printTable(await benchSimulate());
