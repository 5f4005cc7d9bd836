/**
 * Per-transfer accounting on the hot path: incremental SHA-256, 250 ms throughput windows and the
 * process CPU time between the first and the last payload byte. Payload buffers are hashed and
 * counted, never kept.
 */
import { type Hash, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MAX_SAMPLES, SAMPLE_INTERVAL_MS } from '../protocol/result.js';
import type { FileMeta } from '../protocol/messages.js';
import type { TransferSink } from './transfer.js';

/**
 * clientLimited rule: the client's main thread was busy (user + system CPU time) for more than this
 * share of the transfer time. Node decrypts TLS, runs the decoder and hashes on the main thread, so
 * at ~90 % of one core the client, not the network, set the pace. The main thread's time comes
 * from /proc/thread-self/stat (Linux, 10 ms ticks); elsewhere the process-wide cpuMs is used, which
 * also counts GC and libuv threads and so errs towards flagging.
 */
export const CLIENT_LIMITED_CPU_SHARE = 0.9;
/** Below this transfer time the CPU share is too coarse (10 ms ticks) to call the client the bottleneck. */
export const CLIENT_LIMITED_MIN_TRANSFER_MS = 200;
/** USER_HZ: the unit of utime/stime in /proc (100 on every Linux platform Node supports). */
const CLOCK_TICK_MS = 10;
/** A final partial window shorter than this is left out of the samples (its rate would be noise). */
const MIN_LAST_WINDOW_MS = SAMPLE_INTERVAL_MS / 2;

export interface MeterReading {
  /** Hex SHA-256 of the payload (file mode), or null. */
  sha256: string | null;
  samplesMbps: number[];
  cpuMs: number | null;
  clientLimited: boolean;
}

/** CPU clocks, injectable so the clientLimited rule can be tested without burning CPU. */
export interface CpuClocks {
  /** Process CPU time (user + system, every thread), ms. */
  processMs(): number;
  /** Main-thread CPU time, ms, or null when the platform cannot tell. */
  mainThreadMs(): number | null;
}

export const systemCpuClocks: CpuClocks = {
  processMs: () => {
    const usage = process.cpuUsage();
    return (usage.user + usage.system) / 1000;
  },
  mainThreadMs: () => mainThreadCpuMs(),
};

export class TransferMeter implements TransferSink {
  private hash: Hash | undefined;
  /** Arrival of the first payload byte (performance.now()), -1 before it. */
  firstAtMs = -1;
  private cpuStartMs: number | null = null;
  private mainThreadStartMs: number | null = null;

  /** `verify`: hash file-mode payload with SHA-256 (off: `sha256` stays null). */
  constructor(
    private readonly cpu: CpuClocks = systemCpuClocks,
    private readonly verify = true,
  ) {}
  /** Payload bytes per 250 ms window, from the first payload byte; at most MAX_SAMPLES windows. */
  private readonly windowBytes: number[] = [];

  readonly onMeta = (meta: FileMeta): void => {
    if (meta.mode === 'file' && this.verify) this.hash = createHash('sha256');
  };

  /** Marks the first payload byte's arrival (later calls do nothing); onPayload calls it too. */
  readonly begin = (atMs: number): void => {
    if (this.firstAtMs >= 0) return;
    this.firstAtMs = atMs;
    this.cpuStartMs = this.cpu.processMs();
    this.mainThreadStartMs = this.cpu.mainThreadMs();
  };

  readonly onPayload = (data: Buffer, atMs: number): void => {
    this.begin(atMs);
    this.hash?.update(data);
    const index = Math.floor((atMs - this.firstAtMs) / SAMPLE_INTERVAL_MS);
    if (index >= MAX_SAMPLES) return;
    while (this.windowBytes.length <= index) this.windowBytes.push(0);
    this.windowBytes[index]! += data.length;
  };

  /** Call once, at the end of a complete transfer (`lastAtMs` = arrival of the last payload byte). */
  finish(lastAtMs: number): MeterReading {
    const cpuMs = this.cpuStartMs === null ? null : this.cpu.processMs() - this.cpuStartMs;
    const mainThreadEndMs = this.mainThreadStartMs === null ? null : this.cpu.mainThreadMs();
    const busyMs = this.mainThreadStartMs !== null && mainThreadEndMs !== null ? mainThreadEndMs - this.mainThreadStartMs : cpuMs;
    const transferMs = this.firstAtMs < 0 ? 0 : lastAtMs - this.firstAtMs;
    return {
      sha256: this.hash?.digest('hex') ?? null,
      samplesMbps: this.samples(lastAtMs),
      cpuMs,
      clientLimited: busyMs !== null && transferMs >= CLIENT_LIMITED_MIN_TRANSFER_MS && busyMs / transferMs > CLIENT_LIMITED_CPU_SHARE,
    };
  }

  /** Rates of the windows so far; the last window is partial and is rated over its real length. */
  samples(lastAtMs: number): number[] {
    if (this.firstAtMs < 0) return [];
    const count = this.windowBytes.length;
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const bytes = this.windowBytes[i]!;
      let windowMs = SAMPLE_INTERVAL_MS;
      if (i === count - 1 && count < MAX_SAMPLES) {
        windowMs = lastAtMs - (this.firstAtMs + i * SAMPLE_INTERVAL_MS);
        if (windowMs < MIN_LAST_WINDOW_MS) break;
      }
      out.push(mbps(bytes, windowMs));
    }
    return out;
  }
}

let procStatUsable = process.platform === 'linux';

/** CPU time (user + system) of the calling thread in ms, or null where /proc/thread-self is absent. */
export function mainThreadCpuMs(): number | null {
  if (!procStatUsable) return null;
  try {
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks)) return ticks * CLOCK_TICK_MS;
  } catch {
    // Not Linux-like after all.
  }
  procStatUsable = false;
  return null;
}

/** bytes over ms as Mbit/s (10^6 bit/s), rounded to 1 kbit/s. */
export function mbps(bytes: number, ms: number): number {
  return round3((bytes * 8) / ms / 1000);
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
