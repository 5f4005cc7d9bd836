import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { spawnChild } from './children.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  /** Parsed JSON log lines seen so far on stdout. */
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the first log line matching, or rejects when the process exits first. */
  waitFor(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the built CLI (`npm test` builds first) in its own process group (test/helpers/children.ts) and follows its JSON log lines. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, cwd?: string): CliProcess {
  return followChild(
    spawnChild(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

/** Follows a child's stdout JSON lines and stderr; `exited` resolves once the child exited and its stdout was read to the end. */
export function followChild(child: ChildProcess): CliProcess {
  const lines: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const watchers = new Set<() => void>();
  const out = createInterface({ input: child.stdout! });
  out.on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ text: line });
    }
    for (const w of watchers) w();
  });
  // 'exit' can come before the last stdout lines are read: wait for the pipe to end too, but bounded,
  // because a grandchild that inherited the pipe may hold it open.
  let done = false;
  const outEnded = new Promise<void>((resolve) => out.once('close', resolve));
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      let cap: NodeJS.Timeout | undefined;
      const capped = new Promise<void>((r) => (cap = setTimeout(r, 5_000)));
      void Promise.race([outEnded, capped]).then(() => {
        clearTimeout(cap);
        done = true;
        resolve({ code, signal });
        for (const w of watchers) w();
      });
    }),
  );
  const waitFor = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for a log line; stderr: ${stderr.join('\n')}`)), timeoutMs);
      const check = () => {
        const hit = lines.find(match);
        if (hit) finish(undefined, hit);
        else if (done) finish(new Error(`process exited (${child.exitCode}); stderr: ${stderr.join('\n')}`));
      };
      const finish = (err?: Error, line?: Record<string, unknown>) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (err) reject(err);
        else resolve(line!);
      };
      watchers.add(check);
      check();
    });
  return { child, lines, stderr, waitFor, exited };
}
