/**
 * The receiving side of an upload (PUT): admission (the upload share of the transfer slots), the
 * size and time limits, and the server's own measurement of what arrived, with the same rules as
 * the client's download meter (250 ms samples, CPU-limited flag). Payload bytes are counted and
 * dropped, never stored.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCodes, NetprobeError } from '../errors.js';
import { MAX_ARRIVAL_MARKS, type Put, type PutResult } from '../protocol/messages.js';
import { TransferMeter, mbps } from '../client/meter.js';
import type { ServerConfig } from './config.js';

/**
 * Capability 'upload-marks': PUT_RESULT carries the upload's cumulative byte curve, one point at the
 * first read of the socket at or after every tick of this many ms (ticks twice as far apart each
 * time the curve would exceed MAX_ARRIVAL_MARKS), so a parallel upload's common interval is cut
 * within 10 ms of each stream's curve rather than inside its 250 ms windows (at most
 * MAX_ARRIVAL_MARKS points: a 20 s upload at 10 ms ticks; longer ones thin the ticks out).
 */
export const ARRIVAL_MARK_STEP_MS = 10;

/** Time a client gets beyond the upload's duration (or maxUploadDurationMs) to deliver DATA_END. */
export const UPLOAD_GRACE_MS = 5_000;

/** Uploads allowed at once: maxConcurrentUploads, or half the transfer slots (at least one). */
export function uploadLimit(config: Pick<ServerConfig, 'maxConcurrentTransfers' | 'maxConcurrentUploads'>): number {
  return Math.min(config.maxConcurrentTransfers, config.maxConcurrentUploads ?? Math.max(1, Math.floor(config.maxConcurrentTransfers / 2)));
}

/** Why a PUT is refused outright (a limit it asks to exceed), or undefined. */
export function refusePut(
  put: Put,
  sizeBytes: number,
  config: Pick<ServerConfig, 'maxUploadBytes' | 'maxUploadDurationMs'>,
): NetprobeError | undefined {
  if (put.durationMs === undefined && sizeBytes > config.maxUploadBytes) {
    return new NetprobeError(ErrorCodes.limit, `an upload may carry at most ${config.maxUploadBytes} bytes; ${put.name} is ${sizeBytes}`);
  }
  if (put.durationMs !== undefined && put.durationMs > config.maxUploadDurationMs) {
    return new NetprobeError(
      ErrorCodes.limit,
      `an upload may last at most ${config.maxUploadDurationMs} ms; PUT asked for ${put.durationMs}`,
    );
  }
  return undefined;
}

export class UploadReceiver {
  readonly maxBytes: number;
  /** Whole upload, PUT_READY to DATA_END, before the server cuts it. */
  readonly maxDurationMs: number;
  bytes = 0;
  private readonly fileMode: boolean;
  private lastAtMs = -1;
  private readonly meter = new TransferMeter(undefined, false);
  /** The arrival curve: ms after the first payload chunk and the bytes by then, flat pairs. */
  private marks: number[] = [];
  private markStepMs = ARRIVAL_MARK_STEP_MS;
  private nextMarkAtMs = -1;
  /** The first chunk of the socket read in progress (performance.now()): see onChunk(). */
  private readAtMs = -1;

  /** `sizeBytes`: file mode's size (the named file's), ignored in duration mode. */
  constructor(
    put: Put,
    readonly sizeBytes: number,
    config: Pick<ServerConfig, 'maxUploadBytes' | 'maxUploadDurationMs'>,
  ) {
    this.maxBytes = put.durationMs === undefined ? Math.min(sizeBytes, config.maxUploadBytes) : config.maxUploadBytes;
    this.fileMode = put.durationMs === undefined;
    this.maxDurationMs = (put.durationMs ?? config.maxUploadDurationMs) + UPLOAD_GRACE_MS;
  }

  /**
   * A socket chunk arrived (`atMs`, performance.now()) while the upload runs; `sameRead`: from the
   * same read of the socket as the chunk before (a TLS record each), so the arrival curve takes
   * them as one arrival, at the read's first chunk. The first one starts the clock, also when it
   * holds only a DATA frame's header.
   */
  onChunk(atMs: number, sameRead = false): void {
    this.meter.begin(atMs);
    if (!sameRead || this.readAtMs < 0) this.readAtMs = atMs;
  }

  /** DATA payload bytes (a frame's or a piece of one) of the chunk that arrived at `atMs`; throws beyond maxBytes. */
  onData(payload: Buffer, atMs: number): void {
    this.bytes += payload.length;
    if (this.bytes > this.maxBytes) {
      throw new NetprobeError(
        ErrorCodes.limit,
        `upload exceeds its limit of ${this.maxBytes} bytes (${this.bytes} received); nothing is kept`,
      );
    }
    this.meter.onPayload(payload, atMs);
    this.lastAtMs = atMs;
    this.mark(this.readAtMs < 0 ? atMs : this.readAtMs);
  }

  /**
   * A point of the arrival curve at the first read at or after each tick (the first read is one),
   * `atMs` the read's first chunk. A first arrival held back behind a lost segment is one read: the
   * common interval of parallel uploads leaves it out whole (src/client/streams.ts).
   */
  private mark(atMs: number): void {
    const offsetMs = atMs - this.meter.firstAtMs;
    const last = this.marks.length - 2;
    // The DATA frames of one read arrive at one instant: the last of them holds the bytes.
    if (last >= 0 && this.marks[last] === offsetMs) {
      this.marks[last + 1] = this.bytes;
      return;
    }
    if (this.nextMarkAtMs >= 0 && atMs < this.nextMarkAtMs) return;
    this.marks.push(offsetMs, this.bytes);
    if (this.marks.length / 2 > MAX_ARRIVAL_MARKS) this.thin();
    this.nextMarkAtMs = this.meter.firstAtMs + (Math.floor(offsetMs / this.markStepMs) + 1) * this.markStepMs;
  }

  /** Ticks twice as far apart: keeps the first point of every new tick. */
  private thin(): void {
    this.markStepMs *= 2;
    const kept: number[] = [];
    let tick = -1;
    for (let i = 0; i < this.marks.length; i += 2) {
      const t = Math.floor(this.marks[i]! / this.markStepMs);
      if (t === tick) continue;
      tick = t;
      kept.push(this.marks[i]!, this.marks[i + 1]!);
    }
    this.marks = kept;
  }

  /**
   * DATA_END: the client's byte count must match what arrived. `withTimes` (a client with the
   * 'streams' capability) adds the first and last arrival as epoch ms with sub-ms resolution, the
   * clock every stream of a parallel upload shares (the streams may land on different workers);
   * `withMarks` (capability 'upload-marks') the arrival curve, its last point the last arrival.
   */
  finish(claimedBytes: number, withTimes = false, withMarks = false): PutResult {
    if (claimedBytes !== this.bytes || (this.fileMode && this.bytes !== this.sizeBytes)) {
      throw new NetprobeError(
        ErrorCodes.protocol,
        `DATA_END claims ${claimedBytes} bytes; ${this.bytes} arrived${this.fileMode ? ` of ${this.sizeBytes}` : ''}`,
      );
    }
    const first = this.meter.firstAtMs;
    const transferMs = first < 0 || this.lastAtMs < 0 ? 0 : this.lastAtMs - first;
    const reading = this.meter.finish(this.lastAtMs < 0 ? first : this.lastAtMs);
    return {
      bytes: this.bytes,
      transferMs: Math.round(transferMs * 1000) / 1000,
      throughputMbps: transferMs > 0 ? mbps(this.bytes, transferMs) : null,
      samplesMbps: reading.samplesMbps,
      serverLimited: reading.clientLimited,
      ...(withTimes && first >= 0 ? { firstAtUnixMs: unixMs(first), lastAtUnixMs: unixMs(Math.max(first, this.lastAtMs)) } : {}),
      ...(withTimes && withMarks && first >= 0 ? { arrivalMarks: this.arrivalMarks(first) } : {}),
    };
  }

  /** [ms after the first arrival (to the µs), bytes by then] pairs, ending at the last arrival. */
  private arrivalMarks(first: number): [number, number][] {
    const pairs: [number, number][] = [];
    for (let i = 0; i < this.marks.length; i += 2) pairs.push([Math.round(this.marks[i]! * 1000) / 1000, this.marks[i + 1]!]);
    const endMs = Math.round((this.lastAtMs - first) * 1000) / 1000;
    const tail = pairs[pairs.length - 1];
    if (tail === undefined || tail[0] < endMs) pairs.push([endMs, this.bytes]);
    else tail[1] = this.bytes;
    return pairs;
  }
}

/** performance.now() `atMs` as epoch ms, to the µs. */
function unixMs(atMs: number): number {
  return Math.round((performance.timeOrigin + atMs) * 1000) / 1000;
}
