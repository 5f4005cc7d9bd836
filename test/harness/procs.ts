/**
 * The processes a test run started, found in /proc: those whose environment carries the run's
 * marker (inherited by every descendant that was not given a fresh environment, detached or not,
 * orphaned or not) or that sit in a session the runner created. Linux only, like the tests.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  sessionId: number;
  /** One-letter state from /proc/PID/stat (Z: a zombie, already dead). */
  state: string;
  command: string;
  /** The test file named in its environment (NETPROBE_TEST_FILE), if any. */
  file: string | undefined;
  marked: boolean;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

/** Live (non-zombie) processes carrying `marker` (a NAME=value entry) or in one of `sessions`. */
export function findProcesses(marker: string, sessions: ReadonlySet<number> = new Set()): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const stat = read(`/proc/${pid}/stat`);
    if (stat === undefined) continue;
    // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0] ?? '?';
    const sessionId = Number(fields[3]);
    if (state === 'Z' || state === 'X') continue;
    const environ = (read(`/proc/${pid}/environ`) ?? '').split('\0');
    const marked = environ.includes(marker);
    if (!marked && !sessions.has(sessionId)) continue;
    const file = environ.find((e) => e.startsWith('NETPROBE_TEST_FILE='))?.slice('NETPROBE_TEST_FILE='.length);
    const command = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ').trim().slice(0, 200);
    found.push({ pid, sessionId, state, command, file, marked });
  }
  return found;
}

/** SIGKILL, ignoring processes that are already gone. */
export function killAll(processes: readonly ProcessInfo[]): void {
  for (const p of processes) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Waits up to `graceMs` for the processes matching to go away (a child SIGKILLed in a test's last
 * teardown may take a moment to die) and returns those still alive.
 */
export async function survivors(marker: string, sessions: ReadonlySet<number>, graceMs: number): Promise<ProcessInfo[]> {
  const deadline = performance.now() + graceMs;
  for (;;) {
    const left = findProcesses(marker, sessions);
    if (left.length === 0 || performance.now() >= deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether a process exists and is not a zombie (an orphan's zombie waits for its reaper, but is dead). */
export function isAlive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  return state !== 'Z' && state !== 'X';
}
