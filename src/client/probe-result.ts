/**
 * From what the streams of one measurement saw to the Result's figures: one stream (the figures
 * of that stream) or several (the aggregate over their common interval, `streams.ts`).
 */
import { performance } from 'node:perf_hooks';
import { responsiveness } from '../analysis/responsiveness.js';
import { ErrorCodes } from '../errors.js';
import type { Result } from '../protocol/result.js';
import { type TcpSummary, combineTcpSummaries } from '../tcp-info.js';
import { mbps, median, round3 } from './meter.js';
import { type DownloadStream, downloadTraces, uploadTraces } from './parallel.js';
import { aggregateStreams } from './streams.js';
import type { TransferProgress } from './transfer.js';
import type { UploadOutcome } from './upload.js';

export function roundOrNull(value: number | null): number | null {
  return value === null ? null : round3(value);
}

/**
 * Loaded RTT (median of the foreign probes' network round trips, `foreignNetworkRttsMs`: timed by
 * the kernels with capability 'kernel-rtt') and responsiveness (RPM, with its probe counts, from the
 * round trips the process saw, as the draft's) of the PINGs sent under load. `selfRttsMs` undefined:
 * the server lacks capability 'self-ping', so the result carries no self figures (and fields an
 * older server would refuse stay absent).
 */
export function fillLoaded(
  result: Result,
  foreignRttsMs: readonly number[],
  selfRttsMs?: readonly number[],
  foreignNetworkRttsMs: readonly number[] = foreignRttsMs,
): void {
  result.loadedRttMs = roundOrNull(median(foreignNetworkRttsMs));
  const figures = responsiveness(foreignRttsMs, selfRttsMs);
  result.rpm = figures.rpm;
  result.rpmProbes = figures.foreignProbes;
  if (selfRttsMs === undefined) return;
  result.rpmForeign = figures.foreignRpm;
  result.rpmSelf = figures.selfRpm;
  result.rpmSelfProbes = figures.selfProbes;
}

/**
 * Complete downloads, timed by the client's own clock at the receiving end. Several streams: bytes
 * are all streams', responseMs the slowest stream's, downloadMs first request to last byte, and
 * throughput, transfer time and samples the aggregate's, cut on our receiving TCP's delivery curves
 * (or, where TCP_INFO cannot be read here, on the arrivals the process saw); one stream: its own,
 * as always.
 */
export function fillDownload(result: Result, streams: readonly DownloadStream[], checkHash: boolean, file: string): void {
  const one = streams[0]!;
  if (streams.length === 1) {
    const progress = one.progress;
    const first = progress.firstPayloadAtMs;
    const last = progress.lastPayloadAtMs ?? progress.firstByteAtMs ?? performance.now();
    fillProgress(result, [progress]);
    result.transferMs = first === null ? 0 : round3(last - first);
    result.throughputMbps = first !== null && last > first ? mbps(result.bytes, last - first) : null;
    result.samplesMbps = one.reading?.samplesMbps ?? [];
  } else {
    fillProgress(
      result,
      streams.map((s) => s.progress),
    );
    const aggregate = aggregateStreams(downloadTraces(streams));
    result.transferMs = aggregate.intervalMs;
    result.throughputMbps = aggregate.throughputMbps;
    result.samplesMbps = aggregate.samplesMbps;
    result.streams = streams.length;
    result.streamsMbps = aggregate.streamsMbps;
  }
  const requestedAtMs = Math.min(...streams.map((s) => s.progress.requestedAtMs!));
  const lastAtMs = Math.max(...streams.map((s) => s.progress.lastPayloadAtMs ?? s.progress.firstByteAtMs ?? s.progress.requestedAtMs!));
  result.downloadMs = round3(lastAtMs - requestedAtMs);
  result.goodputMbps = result.downloadMs > 0 ? mbps(result.bytes, lastAtMs - requestedAtMs) : null;
  const cpu = streams.map((s) => s.reading?.cpuMs ?? null).filter((v): v is number => v !== null);
  result.cpuMs = cpu.length === 0 ? null : round3(Math.max(...cpu));
  result.clientLimited = streams.some((s) => s.reading?.clientLimited === true);
  if (checkHash) {
    const bad = streams.findIndex((s) => s.reading?.sha256 !== s.progress.meta?.sha256);
    result.sha256Ok = bad < 0;
    if (bad >= 0) {
      const s = streams[bad]!;
      result.error = {
        code: ErrorCodes.integrity,
        message: `SHA-256 of ${file} from ${result.server}${streams.length > 1 ? ` (stream ${bad + 1})` : ''} is ${s.reading?.sha256}, the server announced ${s.progress.meta?.sha256}`,
      };
    }
  }
}

/**
 * Complete uploads: one stream is timed by the receiver (server), so throughput, transfer time and
 * samples are its figures. Several streams: the aggregate over their common interval, cut on our
 * TCP's delivery curves (or, where TCP_INFO cannot be read here, on the server's arrival figures).
 * responseMs is PUT to PUT_READY, downloadMs (completion time) PUT to PUT_RESULT; cpuMs and
 * clientLimited are the sender's (ours).
 */
export function fillUpload(result: Result, sent: readonly UploadOutcome[]): void {
  const requestedAtMs = Math.min(...sent.map((s) => s.requestedAtMs));
  const doneAtMs = Math.max(...sent.map((s) => s.doneAtMs));
  result.bytes = sent.reduce((sum, s) => sum + s.result.bytes, 0);
  result.responseMs = round3(Math.max(...sent.map((s) => s.readyAtMs - s.requestedAtMs)));
  result.downloadMs = round3(doneAtMs - requestedAtMs);
  result.goodputMbps = result.downloadMs > 0 ? mbps(result.bytes, doneAtMs - requestedAtMs) : null;
  const cpu = sent.map((s) => s.cpuMs).filter((v): v is number => v !== null);
  result.cpuMs = cpu.length === 0 ? null : round3(Math.max(...cpu));
  result.clientLimited = sent.some((s) => s.clientLimited);
  result.serverLimited = sent.some((s) => s.result.serverLimited);
  const traces = sent.length === 1 ? undefined : uploadTraces(sent);
  if (traces === undefined) {
    const one = sent[0]!.result;
    result.transferMs = round3(one.transferMs);
    result.throughputMbps = one.throughputMbps;
    result.samplesMbps = one.samplesMbps;
    return;
  }
  const aggregate = aggregateStreams(traces);
  result.transferMs = aggregate.intervalMs;
  result.throughputMbps = aggregate.throughputMbps;
  result.samplesMbps = aggregate.samplesMbps;
  result.streams = sent.length;
  result.streamsMbps = aggregate.streamsMbps;
}

/**
 * The sender's TCP view (capability 'tcp-info'), one summary per stream: the server's TCP_INFO
 * frames for a download, our own samples for an upload. A stream without one (a server that did
 * not send it) leaves the figures null.
 */
export function fillTcp(result: Result, perStream: readonly (TcpSummary | null)[]): void {
  const known = perStream.filter((s): s is TcpSummary => s !== null);
  const combined = known.length === perStream.length && known.length > 0 ? combineTcpSummaries(known) : null;
  result.tcpRttMs = combined?.rttMs ?? null;
  result.tcpRetransmits = combined?.retransmits ?? null;
}

/** Bytes (all streams) and response time (the slowest stream's), known even when the transfer failed. */
export function fillProgress(result: Result, progress: readonly TransferProgress[]): void {
  result.bytes = progress.reduce((sum, p) => sum + p.bytes, 0);
  const responses = progress
    .filter((p) => p.requestedAtMs !== null && p.firstByteAtMs !== null)
    .map((p) => p.firstByteAtMs! - p.requestedAtMs!);
  if (responses.length > 0) result.responseMs = round3(Math.max(...responses));
}
