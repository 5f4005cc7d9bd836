/**
 * The receiving side of an upload (PUT): admission (the upload share of the transfer slots), the
 * size and time limits, and the server's own measurement of what arrived, with the same rules as
 * the client's download meter (250 ms samples, CPU-limited flag). Payload bytes are counted and
 * dropped, never stored.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCodes, NetprobeError } from '../errors.js';
import type { Put, PutResult } from '../protocol/messages.js';
import { TransferMeter, mbps } from '../client/meter.js';
import type { ServerConfig } from './config.js';

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
   * A socket chunk arrived (`atMs`, performance.now()) while the upload runs. The first one starts
   * the clock, also when it holds only a DATA frame's header.
   */
  onChunk(atMs: number): void {
    this.meter.begin(atMs);
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
  }

  /**
   * DATA_END: the client's byte count must match what arrived. `withTimes` (a client with the
   * 'streams' capability) adds the first and last arrival as epoch ms with sub-ms resolution, the
   * clock every stream of a parallel upload shares (the streams may land on different workers).
   */
  finish(claimedBytes: number, withTimes = false): PutResult {
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
    };
  }
}

/** performance.now() `atMs` as epoch ms, to the µs. */
function unixMs(atMs: number): number {
  return Math.round((performance.timeOrigin + atMs) * 1000) / 1000;
}
