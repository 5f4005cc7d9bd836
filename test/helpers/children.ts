/**
 * Child processes of tests. Each is spawned in its own process group (`detached`), so that one
 * signal to the group reaches its descendants too (a server's cluster workers, the references a
 * bench starts, a browser's helpers). Every child spawned here belongs to the top-level test that
 * was running when it started (or to the file, when spawned outside a test): test/harness/setup.ts
 * SIGKILLs the groups of a test's children that are still alive when the next top-level test starts
 * and when the test process exits, whether the test passed, failed or timed out. A test still stops
 * its children itself in `t.after`; this is the net under it.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

interface Owned {
  child: ChildProcess;
  /** What it runs, for the teardown message. */
  label: string;
  /** The top-level test that spawned it (0: the file, outside any test). */
  scope: number;
}

const owned = new Set<Owned>();
let scope = 0;

/** `spawn` in a new process group, owned by the running top-level test. */
export function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  const entry: Owned = { child, label: [command, ...args].join(' ').replace(/\s+/g, ' ').slice(0, 160), scope };
  owned.add(entry);
  // A group whose leader exited may still hold descendants; it is forgotten only once killed below.
  return child;
}

/** Sends `signal` to the child's whole process group; false when the group is gone. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether any process of the child's group is alive. Zombies do not count: a grandchild SIGKILLed
 * with its group stays a zombie until init reaps it, and `kill(-pgid, 0)` would still succeed.
 */
export function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === child.pid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/**
 * Stops a child: `signal` to the process itself (its own shutdown is what many tests check), then,
 * after `graceMs` or once it has exited, SIGKILL to whatever is left of its group. Resolves when
 * the process has exited and no process of its group is alive (a SIGKILLed grandchild dies only
 * once it is scheduled: on a busy machine it could still be running when the test process exited,
 * and setup.ts's exit check reported it as left behind); waits at most 5 s for that.
 */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5_000): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    signalGroup(child, 'SIGKILL');
    await exited;
  }
  if (!signalGroup(child, 'SIGKILL')) return;
  const deadline = performance.now() + 5_000;
  while (groupAlive(child) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * Kills the groups of children owned by tests (and, when `all`, those owned by the file too),
 * returning a line for each group that still had live processes. The harness calls it when a
 * top-level test starts (no test of this file is running then) and, with `all`, when the process
 * exits; synchronous so that it can run in an `exit` listener.
 */
export function reapChildren(all: boolean): string[] {
  const killed: string[] = [];
  for (const entry of owned) {
    if (!all && entry.scope === 0) continue;
    if (groupAlive(entry.child)) {
      signalGroup(entry.child, 'SIGKILL');
      killed.push(`process group ${entry.child.pid} (${entry.label})`);
    }
    owned.delete(entry);
  }
  return killed;
}

let scopes = 0;

/** The harness opens a scope when a top-level test starts: children spawned until it closes are that test's. */
export function openScope(): void {
  scope = ++scopes;
}

/** ...and closes it when the test ends: children spawned afterwards (a `before` hook) are the file's. */
export function closeScope(): void {
  scope = 0;
}
