/**
 * What the kernel's TCP knows (TCP_INFO, Linux), for three things. The sending TCP's own view of a
 * transfer: its smoothed RTT, which the kernel times from each ACK with no process wake-up in it
 * (ndt7 reports the same figure), and the segments it retransmitted; the sender samples it as it
 * writes the payload (the server for a download, sending the summary in a TCP_INFO frame; the client
 * for an upload). And PINGs timed by the kernels (capability 'kernel-rtt'): the server puts the
 * connection in quickack mode (TCP_QUICKACK), the client reads its smoothed RTT around each PING.
 * And delivery curves, which time parallel streams: the segments each connection carried as they
 * crossed the path, counted by the client's kernel (`DeliveryRecorder`).
 *
 * The getsockopt and setsockopt calls are a small native addon (native/tcp_info.c, built by
 * `npm install` with node-gyp, as better-sqlite3 is); where it is missing (not Linux, or the build
 * failed) every figure here is null, PINGs are timed by the process, and the rest works as before.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/** What the addon returns for one socket. */
interface KernelTcpInfo {
  state: number;
  rttUs: number;
  rttVarUs: number;
  minRttUs: number;
  totalRetrans: number;
  /** As a sender: segments the peer has acknowledged, cumulatively or selectively (SACK), since the connection began. */
  delivered: number;
  /** As a sender: bytes the peer has acknowledged cumulatively (in order; the SYN counts one). */
  bytesAcked: number;
  /** The send MSS, bytes. */
  sndMss: number;
  /** As a receiver: data segments that arrived, in order or not (each segment of a coalesced packet counted). */
  dataSegsIn: number;
  /** As a receiver: bytes received in order. */
  bytesReceived: number;
  /** The receive MSS the kernel estimates from the segments it saw, bytes. */
  rcvMss: number;
}

interface Addon {
  /** Writes TCP_INFO_FIELDS numbers into `out`, in KernelTcpInfo's order (native/tcp_info.c). */
  tcpInfo(fd: number, out: Float64Array): void;
  quickAck(fd: number): void;
  minRto(fd: number, us: number): number;
}

let addon: Addon | null | undefined;
let loadError: string | undefined;

function load(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    // src/tcp-info.ts and dist/tcp-info.js are both one level below the package root.
    addon = createRequire(import.meta.url)('../build/Release/tcp_info.node') as Addon;
  } catch (err) {
    addon = null;
    loadError = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  return addon;
}

/** Whether TCP_INFO can be read here; otherwise why not (for a log line). */
export function tcpInfoSupport(): { available: true } | { available: false; reason: string } {
  return load() === null ? { available: false, reason: loadError ?? 'unknown' } : { available: true };
}

/** The numbers the addon writes per reading, in KernelTcpInfo's order. */
const TCP_INFO_FIELDS = 11;
/** Where the addon writes a reading (one process, one thread: each reading is copied out at once). */
const scratch = new Float64Array(TCP_INFO_FIELDS);

/** The socket's file descriptor (a TLS socket's is its TCP connection's), or undefined once closed. */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** `call` with the addon and the socket's descriptor, or null when there is none or the call throws. */
function onSocket<T>(socket: Socket, call: (native: Addon, fd: number) => T): T | null {
  const native = load();
  const fd = native === null ? undefined : fdOf(socket);
  if (native === null || fd === undefined) return null;
  try {
    return call(native, fd);
  } catch {
    return null;
  }
}

/** The kernel's TCP_INFO of `socket`, or null when it cannot be read (no addon, socket closed). */
export function readTcpInfo(socket: Socket): KernelTcpInfo | null {
  return onSocket(socket, (native, fd) => {
    const v = scratch;
    native.tcpInfo(fd, v);
    return {
      state: v[0]!,
      rttUs: v[1]!,
      rttVarUs: v[2]!,
      minRttUs: v[3]!,
      totalRetrans: v[4]!,
      delivered: v[5]!,
      bytesAcked: v[6]!,
      sndMss: v[7]!,
      dataSegsIn: v[8]!,
      bytesReceived: v[9]!,
      rcvMss: v[10]!,
    };
  });
}

/**
 * Switches `socket` to quickack mode: its kernel acknowledges the next segments at once rather than
 * holding the ACK for the reply to carry (TCP_QUICKACK; not permanent, so the server sets it again
 * after each PONG). False where it cannot (no addon, socket closed).
 */
export function quickAck(socket: Socket): boolean {
  return (
    onSocket(socket, (native, fd) => {
      native.quickAck(fd);
      return true;
    }) ?? false
  );
}

/**
 * The minimum RTO the server gives a connection the client declared for PINGs only (its loaded-RTT
 * probes; capabilities 'kernel-rtt' and 'ping-only'). A receiver acknowledges each segment at once
 * only in the kernel's quickack mode, which lasts 16 segments from a connection's first data and is
 * entered again when data arrives after a gap longer than the RTO (200 ms at least by default).
 * Past that, a PING's ACK leaves when the server's process reads it, and a busy server's wake-up is
 * in the kernel-timed round trip (bench/accuracy: uploads at 1 Gbit/s read 1.26x the tbf model
 * before this minimum, 0.97-1.00x with it). With it the RTO is about 20 ms plus the path's RTT,
 * under the 50 ms between loaded PINGs, so each one is acknowledged as it arrives. A client with
 * 'kernel-rtt' acknowledges each PONG as it reads it (quickack), well within that RTO; left to
 * delay its ACK (40 ms or more) it would see most PONGs twice (29 of 30 in a loopback trial).
 * Never on a connection that carries a transfer (the server refuses one on it): a transfer's data
 * keeps the kernel's usual RTO, and an RTO once lowered does not rise again when the minimum is
 * put back.
 */
export const PING_MIN_RTO_US = 20_000;

/**
 * Sets `socket`'s minimum retransmission timeout to `us` (TCP_RTO_MIN_US, Linux 6.15 and later) and
 * returns the one it had, µs; null where it cannot (no addon, an older kernel, socket closed).
 */
export function setMinRto(socket: Socket, us: number): number | null {
  return onSocket(socket, (native, fd) => native.minRto(fd, us));
}

/**
 * How often a DeliveryRecorder reads its connection: each ~2 ms point places the interval's ends
 * to within a segment's time at 10 Mbit/s (1.2 ms).
 */
export const DELIVERY_POLL_MS = 2;

/**
 * A connection's delivery curve, from either end: the segments that had crossed the path at
 * instants of a clock (ms), from `baseSegments` when the recording began. The sender counts the
 * segments its peer acknowledged, cumulatively or selectively (tcpi_delivered); the receiver the
 * data segments that arrived, in order or not (tcpi_data_segs_in). Flat stretches keep both ends,
 * so a straight line between two points is how the count went. `tcpBytes` is the TCP payload the
 * connection carried in the same time (acknowledged or received in order, so complete once the
 * transfer is) and `segmentBytes` the MSS at the end (null where the kernel does not say).
 */
export interface DeliveryCurve {
  baseSegments: number;
  points: [atMs: number, segments: number][];
  segmentBytes: number | null;
  tcpBytes: number;
}

/** Which end of a transfer records: the sender (acknowledged segments) or the receiver (arrived segments). */
export type DeliverySide = 'sender' | 'receiver';

interface DeliveryCounts {
  segments: number;
  bytes: number;
  mss: number;
}

function deliveryCounts(socket: Socket, side: DeliverySide): DeliveryCounts | null {
  const info = readTcpInfo(socket);
  if (info === null) return null;
  return side === 'sender'
    ? { segments: info.delivered, bytes: info.bytesAcked, mss: info.sndMss }
    : { segments: info.dataSegsIn, bytes: info.bytesReceived, mss: info.rcvMss };
}

/**
 * Records one connection's delivery curve while it carries a payload: a timer reads TCP_INFO every
 * DELIVERY_POLL_MS until `finish()`. Why the kernel's segment counts: a receiver's TCP hands its
 * process no byte behind a lost segment until the retransmission arrives, then all at once, so the
 * process's arrivals swing (4.9–16 Mbit/s in 250 ms windows at 10 Mbit/s with four streams); a
 * segment is counted by the receiving kernel as it arrives, and by the sender when a selective ACK
 * reports it. Nothing is recorded (`finish()` null) where TCP_INFO cannot be read.
 */
export class DeliveryRecorder {
  private readonly base: DeliveryCounts | null;
  private readonly points: [number, number][] = [];
  /** The latest reading, not yet kept because the count had not moved since the last point kept. */
  private pending: [number, number] | null = null;
  private readonly timer: NodeJS.Timeout | null;
  private last: DeliveryCounts | null;

  constructor(
    private readonly socket: Socket,
    private readonly side: DeliverySide,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.base = deliveryCounts(socket, side);
    this.last = this.base;
    if (this.base !== null) this.points.push([now(), this.base.segments]);
    this.timer = this.base === null ? null : setInterval(() => this.take(), DELIVERY_POLL_MS);
    this.timer?.unref();
  }

  /** Stops the timer after a last reading; null when TCP_INFO could not be read. */
  finish(): DeliveryCurve | null {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.base === null) return null;
    this.take();
    if (this.pending !== null) this.points.push(this.pending);
    this.pending = null;
    const last = this.last!;
    return {
      baseSegments: this.base.segments,
      points: this.points,
      segmentBytes: last.mss > 0 ? last.mss : null,
      tcpBytes: last.bytes - this.base.bytes,
    };
  }

  private take(): void {
    const counts = deliveryCounts(this.socket, this.side);
    if (counts === null) return;
    this.last = counts;
    const segments = counts.segments;
    const atMs = this.now();
    const last = this.points[this.points.length - 1]!;
    if (segments === last[1]) {
      this.pending = [atMs, segments];
      return;
    }
    // The count moved: the flat stretch before it ends at the reading before this one.
    if (this.pending !== null) this.points.push(this.pending);
    this.pending = null;
    this.points.push([atMs, segments]);
  }
}

/** What 8·S_after − 7·S_before can be off by, with S read in whole µs. */
const TRUNCATION_MS = 0.015;

/**
 * One request's round trip as the sending kernel timed it (capability 'kernel-rtt'): call before
 * writing the request, and `finish()` once the answer arrived. TCP updates its smoothed RTT with
 * each ACK as S ← 7/8·S + 1/8·sample, so with exactly one segment sent and acknowledged in between
 * (the request; the peer acknowledges it at once in quickack mode) the sample is 8·S_after −
 * 7·S_before: the round trip from the request's transmission to its ACK's arrival, both timed by
 * this kernel, with neither end's process wake-up in it. The readings are truncated to whole µs, so
 * the sample is good to ±15 µs: it is clamped to [1 µs, `appRttMs`] (the round trip the process
 * saw, which holds it). `finish()` gives ms, or null when TCP_INFO cannot be read or the figure is
 * off by more than that (another segment was acknowledged in between).
 */
export function kernelRoundTrip(socket: Socket): { finish(appRttMs: number): number | null } {
  const before = readTcpInfo(socket)?.rttUs;
  return {
    finish: (appRttMs) => {
      const after = before === undefined ? undefined : readTcpInfo(socket)?.rttUs;
      if (before === undefined || after === undefined) return null;
      const sampleMs = (8 * after - 7 * before) / 1000;
      if (sampleMs < -TRUNCATION_MS || sampleMs > appRttMs + TRUNCATION_MS) return null;
      return Math.round(Math.min(appRttMs, Math.max(0.001, sampleMs)) * 1000) / 1000;
    },
  };
}

/** A sender's summary of one transfer, as sent in the TCP_INFO frame. */
export interface TcpSummary {
  /** Median of the smoothed RTT samples taken while the payload was written, ms (null: no sample). */
  rttMs: number | null;
  /** Samples behind rttMs. */
  samples: number;
  /** Segments the sender retransmitted during the transfer (null: unknown). */
  retransmits: number | null;
}

/** Fewest ms between two samples of one connection: enough for the RTT to change, cheap at 1,000 connections. */
export const TCP_SAMPLE_INTERVAL_MS = 10;

/**
 * Samples one connection's TCP_INFO during a transfer: `sample()` is called as the sender writes
 * (it reads the kernel at most every TCP_SAMPLE_INTERVAL_MS), `finish()` takes a last sample.
 * The reading when it is created is only the baseline of the retransmit count: its RTT is the
 * idle connection's.
 */
export class TcpSampler {
  private readonly rttsUs: number[] = [];
  private readonly baseRetrans: number | null;
  private lastRetrans: number | null = null;
  private lastAtMs: number;

  constructor(
    private readonly socket: Socket,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.baseRetrans = readTcpInfo(socket)?.totalRetrans ?? null;
    this.lastAtMs = now();
  }

  sample(): void {
    const atMs = this.now();
    if (atMs - this.lastAtMs < TCP_SAMPLE_INTERVAL_MS) return;
    this.take(atMs);
  }

  finish(): TcpSummary {
    this.take(this.now());
    return {
      rttMs: medianMs(this.rttsUs),
      samples: this.rttsUs.length,
      retransmits: this.baseRetrans === null || this.lastRetrans === null ? null : Math.max(0, this.lastRetrans - this.baseRetrans),
    };
  }

  private take(atMs: number): void {
    if (this.baseRetrans === null) return;
    this.lastAtMs = atMs;
    const info = readTcpInfo(this.socket);
    if (info === null) return;
    this.rttsUs.push(info.rttUs);
    this.lastRetrans = info.totalRetrans;
  }
}

function medianMs(valuesUs: readonly number[]): number | null {
  if (valuesUs.length === 0) return null;
  const sorted = [...valuesUs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const us = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(us) / 1000;
}

/**
 * One measurement's figure from its streams' summaries: the RTT is the median of the streams'
 * medians, each counted as often as it has samples (a weighted median), and the retransmits add
 * up (null if any stream's are unknown). No stream with samples gives rttMs null.
 */
export function combineTcpSummaries(summaries: readonly TcpSummary[]): TcpSummary {
  const weighted = summaries
    .filter((s): s is TcpSummary & { rttMs: number } => s.rttMs !== null && s.samples > 0)
    .sort((a, b) => a.rttMs - b.rttMs);
  const samples = weighted.reduce((n, s) => n + s.samples, 0);
  let rttMs: number | null = null;
  // The weighted median: the first value whose cumulative weight reaches half of the total.
  let seen = 0;
  for (const s of weighted) {
    seen += s.samples;
    if (seen * 2 >= samples) {
      rttMs = s.rttMs;
      break;
    }
  }
  const retransmits =
    summaries.length === 0 || summaries.some((s) => s.retransmits === null)
      ? null
      : summaries.reduce((n, s) => n + (s.retransmits ?? 0), 0);
  return { rttMs, samples, retransmits };
}
