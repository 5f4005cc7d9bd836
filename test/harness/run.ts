/**
 * The runner behind `npm test` (suite quick) and `npm run test:long` (suite long):
 *
 *   node --import tsx test/harness/run.ts [--suite quick|long] [--concurrency N] [--file-timeout-ms MS] [FILE...]
 *
 * Each test file runs in one Node process of its own (test-process.ts: the TypeScript loader and
 * test/harness/setup.ts preloaded, `--test-force-exit`), in a session of its own, with a per-file
 * budget, and markers in its environment that
 * every descendant inherits. When a file's process exits, any process it left behind (found by
 * marker or session, detached or orphaned included) is listed, killed, and fails the file; a file
 * over its budget is killed with its whole session. Files run `--concurrency` at a time, longest
 * first by the durations of the last run (node_modules/.cache/netprobe/test-durations.json, over
 * the committed test/harness/durations.json for a clean clone), and
 * the summary lists the slowest files. The quick suite is every test/<area>/<name>.test.ts; the long
 * suite is those of them that import test/helpers/suite.ts (they size themselves by
 * NETPROBE_TEST_SUITE).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ProcessInfo, findProcesses, killAll, survivors } from './procs.js';
import { testProcessArgs } from './test-process.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DURATIONS = join(ROOT, 'node_modules/.cache/netprobe/test-durations.json');
/** Wall times of a whole run on the 2-core test machine, refreshed by hand (copy the file above) when files change a lot. */
const COMMITTED_DURATIONS = join(ROOT, 'test/harness/durations.json');
/** Per-file budgets: a quick file over 3 minutes is a bug; the long suite holds the full-size runs. */
const DEFAULT_FILE_TIMEOUT_MS = { quick: 180_000, long: 30 * 60_000 };
/** After the budget, setup.ts exits the file itself; this is how long the runner waits before SIGKILL. */
const HARD_KILL_GRACE_MS = 15_000;
/** How long a process may take to die after its file exited before it counts as left behind. */
const LEFTOVER_GRACE_MS = 3_000;

const { values, positionals } = parseArgs({
  options: {
    suite: { type: 'string', default: 'quick' },
    concurrency: { type: 'string' },
    'file-timeout-ms': { type: 'string' },
  },
  allowPositionals: true,
});
const suite = values.suite;
if (suite !== 'quick' && suite !== 'long') throw new Error(`--suite must be quick or long, not ${suite}`);
/**
 * Files at a time. Quick: three, since the average file keeps half a core busy (it waits on servers,
 * children and timeouts) and two at a time left one of the test machine's two cores idle (520 s of
 * wall time in the files against 257 s of CPU). Long: two, its full-size runs are CPU-bound.
 */
const DEFAULT_CONCURRENCY = { quick: 3, long: 2 };
const concurrency = Number(values.concurrency ?? DEFAULT_CONCURRENCY[suite]);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new Error(`--concurrency must be a positive integer, not ${values.concurrency}`);
const fileTimeoutMs = Number(values['file-timeout-ms'] ?? DEFAULT_FILE_TIMEOUT_MS[suite]);
if (!(fileTimeoutMs > 0)) throw new Error(`--file-timeout-ms must be a positive number of milliseconds, not ${values['file-timeout-ms']}`);

function allTestFiles(): string[] {
  const files: string[] = [];
  for (const area of readdirSync(join(ROOT, 'test'), { withFileTypes: true })) {
    if (!area.isDirectory()) continue;
    for (const name of readdirSync(join(ROOT, 'test', area.name))) if (name.endsWith('.test.ts')) files.push(`test/${area.name}/${name}`);
  }
  return files.sort();
}

const declaresLongSize = (file: string) => /from '\.\.\/helpers\/suite\.js'/.test(readFileSync(join(ROOT, file), 'utf8'));
const files =
  positionals.length > 0
    ? positionals.map((f) => relative(ROOT, resolve(f)))
    : allTestFiles().filter((f) => suite === 'quick' || declaresLongSize(f));

function readDurations(path: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}
/** This checkout's last run, over the committed durations (test/harness/durations.json), so a clean clone (CI) also starts with the longest files. */
const loadDurations = (): Record<string, number> => ({ ...readDurations(COMMITTED_DURATIONS), ...readDurations(DURATIONS) });
const previous = loadDurations();
// Longest first (unknown files count as long), so that two lanes finish close together.
const lastMs = (file: string) => previous[`${suite} ${file}`] ?? 60_000;
const queue = [...files].sort((a, b) => lastMs(b) - lastMs(a));

interface FileResult {
  file: string;
  durationMs: number;
  /** CPU seconds (user + sys) of the file's process and the children it waited for. */
  cpuSeconds: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  leftovers: ProcessInfo[];
}

/**
 * CPU seconds (user + sys) of this runner's children that have exited and been waited for
 * (/proc/self/stat cutime + cstime; each child's includes its own waited-for children). Read when a
 * file's process closes, the growth since the last read is that file's cost: unlike wall time, it
 * does not depend on how busy the machine is.
 */
function reapedChildCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}
let cpuSeen = reapedChildCpuSeconds();
const cpuAtStart = cpuSeen;

const runId = randomUUID();
// Set when this runner itself runs inside a test (test/harness/teardown.test.ts); the files' own
// test runner would otherwise report to that test's runner instead of printing.
const { NODE_TEST_CONTEXT: _, ...baseEnv } = process.env;
const running = new Set<ChildProcess>();
const results: FileResult[] = [];
const started = performance.now();

function runFile(file: string, index: number): Promise<FileResult> {
  const token = `${runId}/${index}`;
  const child = spawn(process.execPath, testProcessArgs(file), {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...baseEnv,
      ...(process.stdout.isTTY && process.env.NO_COLOR === undefined ? { FORCE_COLOR: '1' } : {}),
      NETPROBE_TEST_RUN: runId,
      NETPROBE_TEST_TOKEN: token,
      NETPROBE_TEST_FILE: file,
      NETPROBE_TEST_SUITE: suite,
      NETPROBE_TEST_FILE_TIMEOUT_MS: String(fileTimeoutMs),
    },
  });
  running.add(child);
  const output: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => output.push(b));
  child.stderr!.on('data', (b: Buffer) => output.push(b));
  const t0 = performance.now();
  let timedOut = false;
  const hardKill = setTimeout(() => {
    timedOut = true;
    output.push(
      Buffer.from(`\n${file}: still running ${(fileTimeoutMs + HARD_KILL_GRACE_MS) / 1000} s after it started; SIGKILL to its session\n`),
    );
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, fileTimeoutMs + HARD_KILL_GRACE_MS);
  return new Promise((resolveResult) => {
    child.once('close', (code, signal) => {
      clearTimeout(hardKill);
      running.delete(child);
      const durationMs = performance.now() - t0;
      const cpuNow = reapedChildCpuSeconds();
      const cpuSeconds = cpuNow - cpuSeen;
      cpuSeen = cpuNow;
      void survivors(`NETPROBE_TEST_TOKEN=${token}`, new Set([child.pid!]), LEFTOVER_GRACE_MS).then((leftovers) => {
        killAll(leftovers);
        const result: FileResult = {
          file,
          durationMs,
          cpuSeconds,
          code,
          signal,
          timedOut: timedOut || (code === 1 && durationMs >= fileTimeoutMs),
          leftovers,
        };
        const ok = code === 0 && leftovers.length === 0;
        process.stdout.write(
          `\n${ok ? '✔' : '✖'} ${file} (${(durationMs / 1000).toFixed(1)} s, CPU ${cpuSeconds.toFixed(1)} s)\n${Buffer.concat(output).toString()}`,
        );
        for (const p of leftovers) process.stdout.write(`${file}: left process ${p.pid} behind (${p.command}); killed\n`);
        resolveResult(result);
      });
    });
  });
}

function stopEverything(): void {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  killAll(findProcesses(`NETPROBE_TEST_RUN=${runId}`));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopEverything();
    process.exit(130);
  });
}

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    while (next < queue.length) {
      const index = next++;
      results.push(await runFile(queue[index]!, index));
    }
  }),
);

// Anything of this run still alive: a process that escaped its file's session and token.
const strays = await survivors(`NETPROBE_TEST_RUN=${runId}`, new Set(), LEFTOVER_GRACE_MS);
killAll(strays);

const wallSeconds = (performance.now() - started) / 1000;
const failed = results.filter((r) => r.code !== 0 || r.leftovers.length > 0);
if (positionals.length === 0) {
  mkdirSync(dirname(DURATIONS), { recursive: true });
  writeFileSync(
    DURATIONS,
    JSON.stringify({ ...previous, ...Object.fromEntries(results.map((r) => [`${suite} ${r.file}`, Math.round(r.durationMs)])) }, null, 1),
  );
}

const cpuSeconds = reapedChildCpuSeconds() - cpuAtStart;
const lines = [
  `\n── ${suite} suite: ${results.length} files, ${concurrency} at a time, ${wallSeconds.toFixed(0)} s wall, ${cpuSeconds.toFixed(0)} s CPU (user + sys of the test processes) ──`,
  'slowest files (wall; CPU):',
];
for (const r of [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 8))
  lines.push(`  ${(r.durationMs / 1000).toFixed(1).padStart(6)} s; ${r.cpuSeconds.toFixed(1).padStart(5)} s  ${r.file}`);
lines.push('most CPU:');
for (const r of [...results].sort((a, b) => b.cpuSeconds - a.cpuSeconds).slice(0, 8))
  lines.push(`  ${r.cpuSeconds.toFixed(1).padStart(6)} s  ${r.file}`);
for (const r of failed) {
  const why = r.timedOut ? 'over its time budget' : r.code !== 0 ? `exit ${r.code ?? r.signal}` : 'left processes behind';
  lines.push(`✖ ${r.file}: ${why}${r.leftovers.length > 0 ? `; ${r.leftovers.length} leftover process(es) killed` : ''}`);
}
for (const p of strays) lines.push(`✖ leftover process ${p.pid} of ${p.file ?? 'an unknown file'}: ${p.command} (killed)`);
lines.push(
  failed.length === 0 && strays.length === 0
    ? `✔ all ${results.length} files passed, nothing left running`
    : `✖ ${failed.length} file(s) failed${strays.length > 0 ? `, ${strays.length} stray process(es)` : ''}`,
);
process.stdout.write(`${lines.join('\n')}\n`);
process.exitCode = failed.length === 0 && strays.length === 0 ? 0 : 1;
