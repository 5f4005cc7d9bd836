/**
 * A throwaway network namespace joined to the host by a veth pair, for accuracy measurements over
 * a link shaped by the kernel (`tbf`; `netem` is not available on these machines). Used by
 * bench/accuracy.ts and test/accuracy/netns.test.ts. Not a bench itself.
 *
 *   host  <hostIf 10.213.a.b/30> ── veth ── <nsIf 10.213.a.b+1/30>  namespace (servers run here)
 *
 * The namespace and veth pair are src/sim/veth.ts's (the real engine's kernel link uses the same):
 * names carry the pid (namespace `np<tag><pid>`, interfaces ≤ 15 characters), the /30 in
 * 10.213.0.0/16 is derived from the pid too, so parallel runs do not collide. Cleanup (processes
 * started inside, the veth pair, the namespace) runs from `cleanup()`, and again from a process
 * 'exit' handler in case the caller never got there; both are idempotent. Needs root and iproute2.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createVethNamespace } from '../src/sim/veth.js';
import { execFileAsync, median } from './lib.js';

export interface Shape {
  rateMbps: number;
  /**
   * Bucket size, bytes; default: 2 ms at the rate, at least 16 KiB. A smaller bucket loses tokens
   * whenever the qdisc's timer fires late on a busy machine (1 Gbit/s then delivers 2–5 % less).
   */
  burstBytes?: number;
  /** Longest queueing delay the qdisc allows (its `limit` in bytes is derived from it), ms. */
  queueMs: number;
  /** `htb` (one class over a bfifo) instead of `tbf`. tbf with a 2 ms bucket held its rate at 10–1000 Mbit/s here. */
  qdisc?: 'tbf' | 'htb';
}

export interface Netns {
  name: string;
  hostIf: string;
  nsIf: string;
  hostAddr: string;
  nsAddr: string;
  /** Starts a long-running process inside the namespace; killed by cleanup(). */
  spawn(cmd: string, args: readonly string[]): ChildProcess;
  /** Runs a command inside the namespace and returns its stdout. */
  exec(cmd: string, args: readonly string[]): Promise<string>;
  /**
   * Shapes the namespace's egress (the direction served files flow), or with side 'host' the
   * host's egress (uploads), replacing any earlier shape on that side.
   */
  shape(shape: Shape, side?: 'ns' | 'host'): Promise<{ limitBytes: number; burstBytes: number }>;
  /** Removes the shape of that side (the link runs at veth speed again). */
  unshape(side: 'ns' | 'host'): Promise<void>;
  cleanup(): Promise<void>;
}

/** Why netns tests cannot run here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  try {
    await execFileAsync('ip', ['-V']);
    await execFileAsync('tc', ['-V']);
  } catch {
    return 'needs iproute2 (ip, tc): apt-get install iproute2';
  }
  const probeName = `npchk${process.pid}`;
  try {
    await execFileAsync('ip', ['netns', 'add', probeName]);
  } catch (err) {
    return `cannot create a network namespace (no CAP_NET_ADMIN?): ${String((err as { stderr?: string }).stderr ?? err).trim()}`;
  } finally {
    await execFileAsync('ip', ['netns', 'del', probeName]).catch(() => undefined);
  }
  return undefined;
}

const live = new Set<() => void>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const cleanup of [...live]) cleanup();
  });
}

let created = 0;

/** Creates the namespace and the veth pair (src/sim/veth.ts), addresses them, brings them up. */
export async function createNetns(tag: string): Promise<Netns> {
  if (!/^[a-z]{1,3}$/.test(tag)) throw new Error(`netns tag must be 1–3 lowercase letters: ${tag}`);
  const index = created++;
  const link = await createVethNamespace({ id: `${tag}${process.pid}${index > 0 ? `x${index}` : ''}`, net: '10.213', index });
  const { name, hostIf, nsIf, hostAddr, nsAddr, inNs } = link;
  const children = new Set<ChildProcess>();
  let cleaned = false;

  const cleanupSync = () => {
    if (cleaned) return;
    cleaned = true;
    live.delete(cleanupSync);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    link.closeSync();
  };
  installExitHook();
  live.add(cleanupSync);

  return {
    name,
    hostIf,
    nsIf,
    hostAddr,
    nsAddr,
    spawn(cmd, args) {
      const child = spawn('ip', ['netns', 'exec', name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    async exec(cmd, args) {
      return (await inNs(cmd, ...args)).stdout;
    },
    async shape(shape, side = 'ns') {
      const dev = side === 'ns' ? nsIf : hostIf;
      const tc = (...args: string[]) => (side === 'ns' ? inNs('tc', ...args) : execFileAsync('tc', args));
      const bytesPerMs = (shape.rateMbps * 1e6) / 8 / 1000;
      const burstBytes = shape.burstBytes ?? Math.max(16 * 1024, Math.round(2 * bytesPerMs));
      const limitBytes = Math.round(bytesPerMs * shape.queueMs);
      const rate = `${shape.rateMbps}mbit`;
      await tc('qdisc', 'del', 'dev', dev, 'root').catch(() => undefined);
      if ((shape.qdisc ?? 'tbf') === 'tbf') {
        // tbf's limit counts the bytes waiting for tokens: the queue, so limit ÷ rate is its delay.
        await tc(
          'qdisc',
          'add',
          'dev',
          dev,
          'root',
          'handle',
          '1:',
          'tbf',
          'rate',
          rate,
          'burst',
          String(burstBytes),
          'limit',
          String(limitBytes),
        );
      } else {
        await tc('qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '10');
        await tc(
          'class',
          'add',
          'dev',
          dev,
          'parent',
          '1:',
          'classid',
          '1:10',
          'htb',
          'rate',
          rate,
          'ceil',
          rate,
          'burst',
          String(burstBytes),
          'cburst',
          String(burstBytes),
        );
        // A byte FIFO under the class bounds the queue (and its delay) as tbf's limit does. htb does
        // not split GSO packets (up to 64 KiB on veth), so the FIFO must hold a few of them.
        await tc('qdisc', 'add', 'dev', dev, 'parent', '1:10', 'handle', '10:', 'bfifo', 'limit', String(Math.max(limitBytes, 4 * 65_536)));
      }
      return { limitBytes: (shape.qdisc ?? 'tbf') === 'tbf' ? limitBytes : Math.max(limitBytes, 4 * 65_536), burstBytes };
    },
    async unshape(side) {
      const dev = side === 'ns' ? nsIf : hostIf;
      await (
        side === 'ns' ? inNs('tc', 'qdisc', 'del', 'dev', dev, 'root') : execFileAsync('tc', ['qdisc', 'del', 'dev', dev, 'root'])
      ).catch(() => undefined);
    },
    async cleanup() {
      for (const child of children) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill('SIGTERM');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, 3_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      cleanupSync();
    },
  };
}

/**
 * The backlog the load built: the median of the samples from the first to the last one with bytes
 * queued, zeros between them included. Samples before the first queued byte and after the last (the
 * process starting, TLS, the idle PINGs, the REPORT, exiting) are outside the transfer and would pull
 * the median down by an amount that depends on how long those phases took on a busy machine.
 */
export function transferBacklog(samples: readonly number[]): number {
  const first = samples.findIndex((b) => b > 0);
  if (first < 0) return 0;
  let last = samples.length - 1;
  while (samples[last]! <= 0) last--;
  return median(samples.slice(first, last + 1));
}

/**
 * The bytes a packet joining the queue waits for, given the qdisc's backlog (bytes) and queue length
 * (packets): all but half of the head packet. tbf releases a packet whole once the tokens for all of
 * it have accrued, and the tokens accrue while the head waits, so a packet arriving at a random
 * moment finds the head half paid for on average. On a veth the head is a GSO packet of up to the
 * bucket (16 KiB, 13 ms at 10 Mbit/s; TCP small queues keep about two of them queued), so backlog ÷
 * rate overstated the wait by up to 6.5 ms there: PONGs alternated between 5 and 11 ms behind a
 * single 9-segment GSO packet of 11 ms. With `gso_max_segs 1` on the veth (one MTU per packet) the
 * plain backlog ÷ rate and netprobe's loaded RTT agreed (3.0 vs 2.9 ms, 6.3 vs 6.3 ms). The mean
 * packet (backlog ÷ qlen) stands for the head.
 */
export function joiningWaitBytes(backlogBytes: number, qlenPackets: number): number {
  if (backlogBytes <= 0) return 0;
  return qlenPackets > 0 ? backlogBytes - backlogBytes / qlenPackets / 2 : backlogBytes;
}

/** performance.now() of the first and the last backlog sample with bytes queued. */
export interface TransferWindow {
  startMs: number;
  endMs: number;
}

/** The span `transferBacklog` reads: from the first sample with bytes queued to the last (`atMs`: each sample's time). */
export function transferWindow(samples: readonly number[], atMs: readonly number[]): TransferWindow | undefined {
  const first = samples.findIndex((b) => b > 0);
  if (first < 0) return undefined;
  let last = samples.length - 1;
  while (samples[last]! <= 0) last--;
  return { startMs: atMs[first]!, endMs: atMs[last]! };
}

/**
 * The median round trip of the probes sent within the transfer (`window`), or null when none was.
 * The other prober's (bench/accuracy.ts `refusedConnectProber`): its probes before the load and
 * after it are idle round trips and would pull the median toward the idle RTT.
 */
export function probesDuring(probes: readonly { sentAtMs: number; rttMs: number }[], window: TransferWindow | undefined): number | null {
  if (window === undefined) return null;
  const inside = probes.filter((p) => p.sentAtMs >= window.startMs && p.sentAtMs <= window.endMs).map((p) => p.rttMs);
  return inside.length > 0 ? median(inside) : null;
}

/** How often `withBacklog` reads the qdisc's backlog, ms. */
export const BACKLOG_SAMPLE_MS = 20;

/** The root qdisc's counters as `tc -s -j qdisc show` prints them (the fields read here). */
interface QdiscStats {
  root?: boolean;
  backlog?: number;
  qlen?: number;
}

/**
 * One `tc` process in batch mode (`tc -s -j -b -`, stdout line-buffered by `stdbuf`) that answers
 * each `qdisc show dev <dev>` written to it with one JSON line. Until 2026-12-06 every sample
 * spawned `ip netns exec … tc` (two execs, every 50 ms): on the 2-core host that was enough CPU and
 * scheduling churn to add ~0.3 ms to every loaded round trip at 1 Gbit/s (netprobe's and the
 * neutral prober's alike: 2.1–2.35 ms with it, 1.75–2.2 ms sampling once a second), so the
 * sampler disturbed what it was the reference for. (`root` in the command makes tc's batch mode
 * fail from its second line on, "parent is already specified"; the root is picked from the list.)
 */
function qdiscReader(ns: Netns, side: 'ns' | 'host'): { read(): Promise<QdiscStats | undefined>; close(): void } {
  const dev = side === 'ns' ? ns.nsIf : ns.hostIf;
  const argv = ['stdbuf', '-oL', 'tc', '-s', '-j', '-b', '-'];
  const command = side === 'ns' ? ['ip', 'netns', 'exec', ns.name, ...argv] : argv;
  // Its stdin is ours: when this process dies the pipe closes and tc exits at end of input.
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting: ((line: string | undefined) => void)[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.(line);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', () => {
    for (const resolve of waiting.splice(0)) resolve(undefined);
  });
  return {
    read() {
      if (child.exitCode !== null || child.signalCode !== null || child.stdin === null) {
        return Promise.reject(new Error(`tc batch process for ${dev} exited: ${stderr.trim()}`));
      }
      return new Promise((resolve, reject) => {
        waiting.push((line) => {
          if (line === undefined) return reject(new Error(`tc batch process for ${dev} exited: ${stderr.trim()}`));
          const qdiscs = JSON.parse(line) as QdiscStats[];
          resolve(qdiscs.find((q) => q.root === true) ?? qdiscs[0]);
        });
        child.stdin!.write(`qdisc show dev ${dev}\n`);
      });
    },
    close() {
      child.stdin?.end();
      child.kill('SIGTERM');
    },
  };
}

/** `ping -D` line: `[<epoch s>] 64 bytes from …: icmp_seq=1 ttl=64 time=0.123 ms` (the time printed on receipt). */
const PING_LINE = /^\[(\d+\.\d+)\].*\btime=([\d.]+) ms/;

/**
 * The probes of `ping -D` output on the performance.now() clock of this process: each line's wall
 * time (printed when the reply was read) less its round trip is when the request went out.
 */
export function pingProbes(output: string, timeOriginMs = performance.timeOrigin): { sentAtMs: number; rttMs: number }[] {
  const probes: { sentAtMs: number; rttMs: number }[] = [];
  for (const line of output.split('\n')) {
    const m = PING_LINE.exec(line);
    if (m) probes.push({ sentAtMs: Number(m[1]) * 1000 - Number(m[2]) - timeOriginMs, rttMs: Number(m[2]) });
  }
  return probes;
}

/**
 * A prober timed by the kernel: ICMP echo every 50 ms by iputils `ping`, whose round trip ends at
 * the reply's kernel receive timestamp (SO_TIMESTAMP), so the host's scheduling delay before a
 * process reads the reply is not in it. The echo reply joins the same tbf queue as netprobe's PONG
 * (the request joins the host's on an upload): its loaded RTT less its idle one is the delay the
 * queue adds, the reference for loaded RTT in bench/accuracy.ts and test/accuracy/netns.test.ts. At
 * 1 Gbit/s on the busy 2-core host it read 0.90–1.03 ms against a modelled queue wait of 0.82–0.87
 * ms, while every prober timed in user space read 1.6–2.5 ms (2026-12-06).
 * Undefined when `ping` is not installed (iputils-ping).
 */
export async function icmpProber(host: string): Promise<{ stop(): Promise<{ sentAtMs: number; rttMs: number }[]> } | undefined> {
  try {
    await execFileAsync('ping', ['-V']);
  } catch {
    return undefined;
  }
  // -w bounds it whatever happens to this process; stop() ends it sooner.
  const child = spawn('ping', ['-n', '-D', '-i', '0.05', '-w', '600', host], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    async stop() {
      child.kill('SIGINT');
      await exited;
      return pingProbes(output);
    },
  };
}

/** Median ICMP echo round trip to `host` with no load (kernel receive timestamps), ms; NaN without ping. */
export async function icmpIdleMs(host: string): Promise<number> {
  try {
    const { stdout } = await execFileAsync('ping', ['-n', '-D', '-i', '0.05', '-c', '20', host]);
    return median(pingProbes(stdout).map((p) => p.rttMs));
  } catch {
    return NaN;
  }
}

/**
 * Samples the root qdisc's backlog of one side every `BACKLOG_SAMPLE_MS` while `during` runs
 * (`qdiscReader`: one tc process, no exec per sample); returns its result, the tbf backlog of the
 * transfer (`transferBacklog`) and the same over the bytes a joining packet waits for
 * (`joiningWaitBytes`): that ÷ rate is the queueing delay a PONG joining the queue waits, the
 * reference for loaded RTT; and the transfer's span (`transferWindow`) for a neutral prober.
 */
export async function withBacklog<T>(
  ns: Netns,
  during: () => Promise<T>,
  side: 'ns' | 'host' = 'ns',
): Promise<{ value: T; backlogBytes: number; waitBytes: number; window: TransferWindow | undefined }> {
  const samples: number[] = [];
  const times: number[] = [];
  const waits: number[] = [];
  let running = true;
  const reader = qdiscReader(ns, side);
  let failure: unknown;
  const sampler = (async () => {
    while (running) {
      const root = await reader.read().catch((err: unknown) => {
        failure ??= err;
        running = false;
      });
      if (!running) break;
      times.push(performance.now());
      samples.push(root?.backlog ?? 0);
      waits.push(joiningWaitBytes(root?.backlog ?? 0, root?.qlen ?? 0));
      await new Promise((r) => setTimeout(r, BACKLOG_SAMPLE_MS));
    }
  })();
  try {
    // The first sample proves the reader works before the load starts.
    await reader.read();
    const value = await during();
    return { value, backlogBytes: transferBacklog(samples), waitBytes: transferBacklog(waits), window: transferWindow(samples, times) };
  } finally {
    running = false;
    await sampler;
    reader.close();
  }
  if (failure !== undefined) throw failure;
}
