/**
 * The benchmark suite (`npm run bench`): runs every bench/*.ts that writes a result, each in its
 * own child process (`node --import tsx bench/X.ts [--quick]`), collects the rows of
 * bench/results/X.json and prints one table; writes bench/results/summary.json and summary.md.
 *
 *   node --import tsx bench/run.ts [--quick] [--only a,b] [--skip a,b] [--no-build]
 *
 * Known benches run first, in ORDER; any other bench file found is run after them. A file is a
 * bench when it calls writeResult() or names bench/results/ (helpers such as lib.ts do neither).
 * `dist/` is rebuilt first when a source file is newer than it (the benches run the built CLI).
 * Exit status 1 when a bench failed, timed out or wrote no fresh result; a bench that exits 1 after
 * writing `pass: false` (its own target missed) is reported as `target missed`, not as a failure.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchRow, QUICK, RESULTS_DIR, execFileAsync, machine, printTable } from './lib.js';
import { TABLE_HEADER, inOrder, markdownRow, rowsOf } from './table.js';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH_DIR, '..');
const NOT_BENCHES = new Set(['run', 'lib', 'netns', 'synthetic-results', 'table']);
/** Per bench; the suite as a whole is meant to take < 15 min (full) and < 2 min (--quick). */
const TIMEOUT_MS = QUICK ? 3 * 60_000 : 10 * 60_000;

export interface BenchOutcome {
  name: string;
  /** `target missed`: the bench ran and wrote its rows, then exited 1 because a target of its own was missed. */
  status: 'ok' | 'target missed' | 'failed' | 'skipped' | 'timeout' | 'no result';
  seconds: number;
  exitCode: number | null;
  /** Why the bench skipped itself (written in its result) or failed. */
  note?: string;
  rows: BenchRow[];
}

function flagList(name: string): string[] | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : (process.argv[i + 1] ?? '').split(',').filter(Boolean);
}

/** Bench names in run order. */
export function discoverBenches(dir = BENCH_DIR): string[] {
  const found = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .filter((name) => !NOT_BENCHES.has(name))
    .filter((name) => /writeResult\(|bench\/results|RESULTS_DIR/.test(readFileSync(join(dir, `${name}.ts`), 'utf8')));
  return inOrder(found);
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

async function buildIfStale(): Promise<void> {
  const cli = join(ROOT, 'dist', 'cli', 'index.js');
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestMtimeMs(join(ROOT, 'src'))) return;
  process.stderr.write('bench: dist/ is older than src/: npm run build …\n');
  await execFileAsync('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
}

/** Runs one bench in a child process, its output passed through; kills its process group on timeout. */
function runChild(name: string): Promise<{ exitCode: number | null; timedOut: boolean; seconds: number }> {
  const t0 = performance.now();
  const args = ['--import', 'tsx', join(BENCH_DIR, `${name}.ts`), ...(QUICK ? ['--quick'] : [])];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    process.stderr.write(`bench: ${name} still running after ${TIMEOUT_MS / 1000} s: stopping it\n`);
    // Its own process group (detached): the bench and whatever it started.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }, 10_000).unref();
  }, TIMEOUT_MS);
  // The bench has its own process group, so Ctrl-C on the suite does not reach it: pass it on.
  const stop = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // Already gone.
    }
    if (signal !== 'SIGHUP') process.exit(130);
  };
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  const onExit = () => stop('SIGHUP');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', onExit);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
      resolve({ exitCode: code, timedOut, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** The rows a bench wrote after `sinceMs`, or why there are none. */
function readResult(name: string, sinceMs: number): { rows: BenchRow[]; skipped?: string; fresh: boolean; pass?: boolean } {
  const path = join(RESULTS_DIR, `${name}.json`);
  if (!existsSync(path)) return { rows: [], fresh: false };
  const json = JSON.parse(readFileSync(path, 'utf8')) as { at?: string; rows?: BenchRow[]; skipped?: string; pass?: unknown };
  const fresh = json.at !== undefined ? Date.parse(json.at) >= sinceMs - 1000 : statSync(path).mtimeMs >= sinceMs - 1000;
  const rows = fresh
    ? rowsOf({
        bench: name,
        ...(Array.isArray(json.rows) ? { rows: json.rows } : {}),
        ...(typeof json.pass === 'boolean' ? { pass: json.pass } : {}),
      })
    : [];
  return {
    rows,
    ...(json.skipped === undefined ? {} : { skipped: json.skipped }),
    ...(typeof json.pass === 'boolean' ? { pass: json.pass } : {}),
    fresh,
  };
}

function summaryMarkdown(outcomes: BenchOutcome[], totalSeconds: number, m: Record<string, unknown>): string {
  const lines = [
    `Benchmarks${QUICK ? ' (--quick)' : ''}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${Math.round(totalSeconds)} s: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, node ${m.node}.`,
    '',
    ...TABLE_HEADER,
  ];
  for (const o of outcomes) {
    for (const r of o.rows) lines.push(markdownRow(r));
    if (o.status !== 'ok') lines.push(`| ${o.name} | **${o.status}**${o.note ? `: ${o.note}` : ''} | | | | | |`);
  }
  lines.push(
    '',
    `| bench | status | seconds |`,
    '| --- | --- | ---: |',
    ...outcomes.map((o) => `| ${o.name} | ${o.status} | ${o.seconds.toFixed(0)} |`),
  );
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const only = flagList('--only');
  const skip = flagList('--skip') ?? [];
  const benches = discoverBenches().filter((n) => (only === undefined || only.includes(n)) && !skip.includes(n));
  if (only) for (const n of only) if (!benches.includes(n)) throw new Error(`no bench named ${n} (have: ${discoverBenches().join(', ')})`);
  if (!process.argv.includes('--no-build')) await buildIfStale();
  await mkdir(RESULTS_DIR, { recursive: true });
  const t0 = performance.now();
  const outcomes: BenchOutcome[] = [];
  for (const name of benches) {
    process.stderr.write(`\nbench: ${name}${QUICK ? ' --quick' : ''}\n`);
    const startedAtMs = Date.now();
    const run = await runChild(name);
    const result = readResult(name, startedAtMs);
    let status: BenchOutcome['status'] = 'ok';
    let note: string | undefined;
    if (run.timedOut) status = 'timeout';
    else if (run.exitCode !== 0) status = result.fresh && result.pass === false ? 'target missed' : 'failed';
    else if (!result.fresh) status = 'no result';
    else if (result.skipped !== undefined) status = 'skipped';
    if (status === 'failed') note = `exit status ${run.exitCode}`;
    if (status === 'skipped') note = result.skipped;
    if (status === 'no result') note = `no fresh bench/results/${name}.json`;
    outcomes.push({
      name,
      status,
      seconds: run.seconds,
      exitCode: run.exitCode,
      ...(note === undefined ? {} : { note }),
      rows: result.rows,
    });
    process.stderr.write(`bench: ${name}: ${status} in ${run.seconds.toFixed(0)} s\n`);
  }
  const totalSeconds = (performance.now() - t0) / 1000;
  const m = machine();
  const rows = outcomes.flatMap((o) => o.rows);
  const summary = {
    at: new Date().toISOString(),
    quick: QUICK,
    machine: m,
    totalSeconds,
    benches: outcomes.map(({ rows: _rows, ...o }) => o),
    rows,
  };
  await writeFile(join(RESULTS_DIR, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  const md = summaryMarkdown(outcomes, totalSeconds, m);
  await writeFile(join(RESULTS_DIR, 'summary.md'), md);
  process.stdout.write('\n');
  printTable(rows);
  process.stdout.write(
    `\n${outcomes.map((o) => `${o.name}: ${o.status}${o.note ? ` (${o.note})` : ''}, ${o.seconds.toFixed(0)} s`).join('; ')}\n`,
  );
  process.stdout.write(`total ${totalSeconds.toFixed(0)} s; written to bench/results/summary.json and summary.md\n`);
  // A missed target is a finding for the table, not a broken bench.
  if (outcomes.some((o) => o.status === 'failed' || o.status === 'timeout' || o.status === 'no result')) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
