/**
 * Helpers for the reliability tests: a free port to restart a server on, the server CLI as a child
 * process whose JSON log lines are followed (kept only when asked, so long runs stay small), and
 * its resident memory from /proc.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { spawnChild } from '../helpers/children.js';
import { CLI } from '../helpers/process.js';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** Resident set size of a process, bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export type LogLine = Record<string, unknown>;

export interface ServerProcess {
  child: ChildProcess;
  /** Lines kept (those `keep` accepted), in order. */
  lines: LogLine[];
  /** Lines seen, by level (pino numbers: 40 warn, 50 error, 60 fatal). */
  levels: Map<number, number>;
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first line (kept or not) matching, or a rejection if the process exits first. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

/** `node dist/cli/index.js ARGS` in its own process group (test/helpers/children.ts), stdout parsed line by line. */
export function spawnCli(
  args: readonly string[],
  keep: (line: LogLine) => boolean = () => true,
  env: NodeJS.ProcessEnv = {},
): ServerProcess {
  const child = spawnChild(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: LogLine[] = [];
  const levels = new Map<number, number>();
  const stderr: string[] = [];
  const watchers = new Set<(line: LogLine | undefined) => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { text };
    }
    const level = typeof line.level === 'number' ? line.level : 0;
    levels.set(level, (levels.get(level) ?? 0) + 1);
    if (keep(line)) lines.push(line);
    for (const w of watchers) w(line);
  });
  createInterface({ input: child.stderr! }).on('line', (text) => stderr.push(text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of watchers) w(undefined);
    }),
  );
  const waitFor = (match: (line: LogLine) => boolean, timeoutMs = 20_000) =>
    new Promise<LogLine>((resolve, reject) => {
      const hit = lines.find(match);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => done(new Error(`timed out waiting for a log line; stderr: ${stderr.join('\n')}`)), timeoutMs);
      const watcher = (line: LogLine | undefined) => {
        if (line === undefined) done(new Error(`process exited; stderr: ${stderr.join('\n')}`));
        else if (match(line)) done(undefined, line);
      };
      const done = (err?: Error, line?: LogLine) => {
        clearTimeout(timer);
        watchers.delete(watcher);
        if (err) reject(err);
        else resolve(line!);
      };
      if (child.exitCode !== null || child.signalCode !== null) return done(new Error(`process exited; stderr: ${stderr.join('\n')}`));
      watchers.add(watcher);
    });
  return { child, lines, levels, stderr, exited, waitFor };
}
