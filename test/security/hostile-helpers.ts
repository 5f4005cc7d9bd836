/**
 * Helpers for the hostile-client tests: the server CLI as a child process, an honest client whose
 * experience (new connection, PING, download, REPORT ACK) is measured in rounds, and the medians
 * compared against a baseline measured in the same test before the attack.
 */
import { readFile } from 'node:fs/promises';
import tls, { type TLSSocket } from 'node:tls';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { encodeMessage } from '../../src/protocol/messages.js';
import { clientTlsOptions } from '../../src/tls/options.js';
import { rssBytes, spawnCli, type ServerProcess } from '../reliability/helpers.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import type { CertDir } from './helpers.js';

export interface HostileServer {
  proc: ServerProcess;
  port: number;
  pid: number;
  store: string;
}

/** `netprobe server` on port 0 with small built-in files; `extra` flags come last. */
export async function startHostileServer(certs: CertDir, extra: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<HostileServer> {
  const store = `${certs.dir}/hostile-${Math.random().toString(36).slice(2)}.db`;
  const proc = spawnCli(
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--ca',
      certs.paths.caCert,
      '--cert',
      certs.paths.serverCert,
      '--key',
      certs.paths.serverKey,
      '--store',
      store,
      '--builtin-files',
      '1KiB,256KiB',
      '--stats-interval',
      '0',
      '--synchronous',
      'normal',
      '--workers',
      '1',
      ...extra,
    ],
    (l) => (typeof l.level === 'number' && l.level >= 40) || l.msg === 'listening',
    env,
  );
  const port = Number((await proc.waitFor((l) => l.msg === 'listening', 60_000)).port);
  return { proc, port, pid: proc.child.pid!, store };
}

export async function stopServer(server: HostileServer): Promise<void> {
  if (server.proc.child.exitCode !== null || server.proc.child.signalCode !== null) return;
  server.proc.child.kill('SIGTERM');
  const timer = setTimeout(() => server.proc.child.kill('SIGKILL'), 20_000);
  await server.proc.exited;
  clearTimeout(timer);
}

/** One honest round, each in ms: a new connection to WELCOME, a PING, a 256 KiB download, a REPORT of 5 results to its ACK. */
export interface Round {
  connectMs: number;
  pingMs: number;
  downloadMs: number;
  ackMs: number;
}

export interface Honest {
  /** Ids the server ACKed. */
  acked: Set<string>;
  /** Answers other than the expected ones (should stay empty). */
  problems: string[];
  /** `n` rounds one after the other; without `report` the REPORT step is skipped (ackMs 0). */
  rounds(n: number, options?: { report?: boolean }): Promise<Round[]>;
}

export function honestClient(port: number, paths: { ca: string; cert: string; key: string }): Honest {
  const acked = new Set<string>();
  const problems: string[] = [];
  const round = async (report: boolean): Promise<Round> => {
    const t0 = performance.now();
    const c = await WireClient.connect(port, paths);
    try {
      const welcome = await c.hello();
      const connectMs = performance.now() - t0;
      if (welcome?.type !== 'WELCOME') problems.push(`hello: ${JSON.stringify(welcome)}`);
      const t1 = performance.now();
      c.send({ type: 'PING', seq: 1 });
      const pong = await c.next();
      const pingMs = performance.now() - t1;
      if (pong?.type !== 'PONG') problems.push(`ping: ${JSON.stringify(pong)}`);
      const t2 = performance.now();
      const file = await c.download('256KiB');
      const downloadMs = performance.now() - t2;
      if (file.reply?.type !== 'FILE_META' || file.bytes !== 256 * 1024)
        problems.push(`download: ${JSON.stringify(file.reply)} ${file.bytes}`);
      if (!report) return { connectMs, pingMs, downloadMs, ackMs: 0 };
      const results = Array.from({ length: 5 }, () => sampleResult());
      const t3 = performance.now();
      c.send({ type: 'REPORT', results });
      const ack = await c.next();
      const ackMs = performance.now() - t3;
      if (ack?.type === 'ACK') for (const id of ack.ids) acked.add(id);
      else problems.push(`report: ${JSON.stringify(ack)}`);
      return { connectMs, pingMs, downloadMs, ackMs };
    } finally {
      c.close();
    }
  };
  return {
    acked,
    problems,
    rounds: async (n, options = {}) => {
      const out: Round[] = [];
      for (let i = 0; i < n; i++) out.push(await round(options.report ?? true));
      return out;
    },
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type Medians = Record<keyof Round, number>;

export function medians(rounds: readonly Round[]): Medians {
  const keys: (keyof Round)[] = ['connectMs', 'pingMs', 'downloadMs', 'ackMs'];
  return Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r[k]))])) as Medians;
}

/**
 * A step's time the comparison never goes below: on a shared 2-core machine, a neighbour's burst
 * delays any single step by a few milliseconds (one scheduler slice), so a sub-millisecond PING's
 * baseline cannot be multiplied alone. The attacks this guards against cost hundreds of ms to seconds.
 */
export const SCHEDULING_FLOOR_MS = 5;

/**
 * The honest client's medians under attack against its baseline: each at most `factor` times the
 * largest of the baseline median, a quarter of the baseline's worst round (the machine's noise in
 * this run) and SCHEDULING_FLOOR_MS. Returns failures as text.
 */
export function compareToBaseline(baseline: readonly Round[], attacked: readonly Round[], factor: number): string[] {
  const base = medians(baseline);
  const under = medians(attacked);
  const noise = medians([
    baseline.reduce((worst, r) => ({
      connectMs: Math.max(worst.connectMs, r.connectMs),
      pingMs: Math.max(worst.pingMs, r.pingMs),
      downloadMs: Math.max(worst.downloadMs, r.downloadMs),
      ackMs: Math.max(worst.ackMs, r.ackMs),
    })),
  ]);
  const failures: string[] = [];
  for (const key of Object.keys(base) as (keyof Round)[]) {
    if (base[key] === 0) continue;
    const bound = factor * Math.max(base[key], noise[key] / 4, SCHEDULING_FLOOR_MS);
    if (under[key] > bound)
      failures.push(
        `${key}: median ${under[key].toFixed(1)} ms under attack, baseline ${base[key].toFixed(1)} ms (bound ${bound.toFixed(1)})`,
      );
  }
  return failures;
}

export function describe(baseline: readonly Round[], attacked: readonly Round[]): string {
  const b = medians(baseline);
  const a = medians(attacked);
  return (Object.keys(b) as (keyof Round)[]).map((k) => `${k} ${b[k].toFixed(1)}→${a[k].toFixed(1)}`).join(', ');
}

/** A raw TLS connection with a client certificate, nothing read unless the caller reads. */
export async function rawConnect(
  port: number,
  paths: { ca: string; cert: string; key: string },
  extra: tls.ConnectionOptions = {},
): Promise<TLSSocket> {
  const material = { ca: await readFile(paths.ca), cert: await readFile(paths.cert), key: await readFile(paths.key) };
  const socket = tls.connect({ ...clientTlsOptions(material, { host: '127.0.0.1', port }), ...extra });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  return socket;
}

export const helloFrame = (): Buffer => encodeMessage({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'hostile', capabilities: [] });

/** Samples a process's RSS every `everyMs` until stopped; returns the samples. */
export function sampleRss(pid: number, everyMs = 100): { samples: number[]; stop(): void } {
  const samples = [rssBytes(pid)];
  const timer = setInterval(() => {
    try {
      samples.push(rssBytes(pid));
    } catch {
      // the process is gone
    }
  }, everyMs);
  return { samples, stop: () => clearInterval(timer) };
}

/** Resolves when `socket` closes, or with false after `ms`. */
export function closedWithin(socket: TLSSocket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
