import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { CLI } from '../helpers/process.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to its end (no TTY: stdin is /dev/null). */
export function netprobe(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...options.env }, cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

export async function tempDir(t: TestContext, prefix = 'netprobe-cli-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Every file under `dir` with its size and modification time: equal snapshots mean nothing was
 * written or deleted. SQLite's -wal/-shm side files are left out: any reader of a WAL database
 * (read-only ones too) creates them; the database file itself must not change.
 */
export async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (/\.db-(wal|shm)$/.test(entry.name)) continue;
    const path = join(entry.parentPath ?? dir, entry.name);
    const s = await stat(path);
    out.push(`${path} ${entry.isDirectory() ? 'dir' : `${s.size} ${s.mtimeMs}`}`);
  }
  return out.sort();
}
