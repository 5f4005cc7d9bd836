import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { TABLE_HEADER, markdownRow } from './table.js';

export const execFileAsync = promisify(execFile);
export const QUICK = process.argv.includes('--quick');
export const RESULTS_DIR = new URL('./results/', import.meta.url).pathname;

const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size high-water mark (VmHWM) of a process, bytes. */
export function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * A process and its direct children (an nginx master and its workers, a netprobe server's primary
 * and its workers), whose CPU and memory belong together.
 */
export async function processTree(pid: number): Promise<number[]> {
  const { stdout } = await execFileAsync('pgrep', ['-P', String(pid)]).catch(() => ({ stdout: '' }));
  return [pid, ...stdout.trim().split('\n').filter(Boolean).map(Number)];
}

/** CPU seconds of several processes together. */
export const totalCpuSeconds = (pids: readonly number[]): number => pids.reduce((n, p) => n + cpuSeconds(p), 0);

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const shellQuote = (args: readonly string[]): string => args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');

/** Runs a shell pipeline under bash's `time`: stdout, stderr (less the timing) and the CPU seconds of the whole pipeline. */
export async function timedShell(script: string): Promise<{ stdout: string; stderr: string; cpuSeconds: number }> {
  const { stdout, stderr } = await execFileAsync('bash', ['-c', `TIMEFORMAT='%U %S'; time { ${script} ; }`], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = stderr.trim().split('\n');
  const [user, sys] = lines.pop()!.split(' ').map(Number);
  return { stdout, stderr: lines.join('\n'), cpuSeconds: user! + sys! };
}

/** Runs a command under bash's `time`: its output and the CPU seconds it used. */
export async function timed(cmd: string, args: readonly string[]): Promise<{ stdout: string; cpuSeconds: number }> {
  return timedShell(shellQuote([cmd, ...args]));
}

/** Writes `size` incompressible bytes to `path`. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const fh = await open(path, 'w');
  const chunk = Buffer.alloc(16 * 2 ** 20);
  try {
    for (let done = 0; done < size; done += chunk.length) {
      randomFillSync(chunk);
      await fh.write(chunk, 0, Math.min(chunk.length, size - done));
    }
  } finally {
    await fh.close();
  }
}

export function machine(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
  };
}

export interface BenchRow {
  bench: string;
  metric: string;
  netprobe: number;
  reference?: number;
  referenceName?: string;
  /** netprobe ÷ reference (higher is better unless `lowerIsBetter`). */
  ratio?: number;
  unit: string;
  target?: string;
}

export async function writeResult(name: string, rows: BenchRow[], details: Record<string, unknown> = {}): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(
    join(RESULTS_DIR, `${name}.json`),
    `${JSON.stringify({ bench: name, at: new Date().toISOString(), quick: QUICK, machine: machine(), rows, ...details }, null, 2)}\n`,
  );
  // docs/benchmarks.md's latest-results table is generated from these files (test/docs/docs.test.ts checks it).
  process.stderr.write(
    `bench: wrote bench/results/${name}.json; before committing it, run npm run docs:bench (docs/benchmarks.md's table)\n`,
  );
}

export function printTable(rows: readonly BenchRow[]): void {
  process.stdout.write(`${[...TABLE_HEADER, ...rows.map(markdownRow)].join('\n')}\n`);
}

/**
 * Spawns a long-running process and waits until `ready` sees its first matching stdout line. Later
 * lines go to `onLine` (or are dropped), so a chatty process never fills its pipe.
 */
export async function spawnReady(
  cmd: string,
  args: readonly string[],
  ready: (line: string) => boolean,
  timeoutMs = 60_000,
  onLine?: (line: string) => void,
  env?: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-64 * 1024)));
  return new Promise((resolve, reject) => {
    let isReady = false;
    const timer = setTimeout(() => {
      // Not ours to keep: a process that never got ready would outlive the bench.
      child.kill('SIGKILL');
      reject(new Error(`${cmd} not ready after ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (isReady) return onLine?.(line);
      if (!ready(line)) return;
      isReady = true;
      clearTimeout(timer);
      resolve({ child, line });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!isReady) reject(new Error(`${cmd} exited (${code}) before it was ready: ${err}`));
    });
  });
}

/** A TCP port free on 127.0.0.1 right now (for servers that cannot listen on port 0, as nginx). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * The reference HTTPS server's configuration: nginx serving `root` over TLS 1.3 only on `listen`
 * with the given certificate, logs and state under `prefix` (created). Returns nginx's arguments.
 */
export async function writeNginxConfig(options: {
  prefix: string;
  listen: string;
  cert: string;
  key: string;
  root: string;
  workers: number | 'auto';
  connections: number;
  /** CA file: nginx asks every client for a certificate it signed (mutual TLS, `ssl_verify_client on`). */
  clientCa?: string;
}): Promise<string[]> {
  const { prefix } = options;
  await mkdir(prefix, { recursive: true });
  await writeFile(
    join(prefix, 'nginx.conf'),
    `
user root;
worker_processes ${options.workers};
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log;
daemon off;
events { worker_connections ${options.connections}; }
http {
  access_log off;
  client_body_temp_path ${prefix};
  server {
    listen ${options.listen} ssl;
    ssl_certificate ${options.cert};
    ssl_certificate_key ${options.key};
    ssl_protocols TLSv1.3;${
      options.clientCa === undefined
        ? ''
        : `
    ssl_client_certificate ${options.clientCa};
    ssl_verify_client on;`
    }
    root ${options.root};
  }
}
`,
  );
  return ['-c', join(prefix, 'nginx.conf'), '-p', prefix];
}
