/**
 * GET_FILE handling: FILE_META, then the payload into a sink (raw bytes in file mode, DATA frames'
 * payloads as they arrive until DATA_END in duration mode), with response, idle and total timeouts.
 * No per-chunk allocation of its own: a chunk is timestamped once by the session and its payload
 * handed on as decoded.
 */
import { ConnectionError, ErrorCodes, ProtocolError } from '../errors.js';
import type { FileMeta, GetFile } from '../protocol/messages.js';
import type { TcpSummary } from '../tcp-info.js';
import { type RequestHandlers, type Settle, remoteError } from './request.js';

/** Receives the payload of a download, in order. `atMs` is the arrival time of the socket chunk. */
export interface TransferSink {
  onMeta?(meta: FileMeta, atMs: number): void;
  onPayload(data: Buffer, atMs: number): void;
}

export interface TransferTimeouts {
  /** GET_FILE written to FILE_META received. */
  responseMs: number;
  /** Longest silence while the payload flows. */
  idleMs: number;
  /** Whole transfer, request to last byte (duration mode: on top of durationMs). */
  totalMs: number;
}

/** Written by Session.getFile as the transfer advances, so a failed transfer still reports what it got. */
export interface TransferProgress {
  /** performance.now() right after GET_FILE was written. */
  requestedAtMs: number | null;
  /** First socket chunk after the request. */
  firstByteAtMs: number | null;
  meta: FileMeta | null;
  bytes: number;
  firstPayloadAtMs: number | null;
  lastPayloadAtMs: number | null;
  /** Capability 'tcp-info': the server's TCP view of sending the payload (its TCP_INFO frame). */
  tcp: TcpSummary | null;
}

export function newTransferProgress(): TransferProgress {
  return { requestedAtMs: null, firstByteAtMs: null, meta: null, bytes: 0, firstPayloadAtMs: null, lastPayloadAtMs: null, tcp: null };
}

/** What the transfer needs from its session. */
export interface TransferIo {
  where: string;
  expectRaw(sizeBytes: number): void;
  /**
   * DATA payloads come out as they arrive (onPart) rather than as whole frames: a frame holds up to
   * 256 KiB, 0.2 s at 10 Mbit/s on one stream and 0.8 s on each of four, so counting it only once
   * complete would move a stream's byte curve in 256 KiB steps.
   */
  streamData(on: boolean): void;
  terminate(err: Error): void;
  /** Both sides listed 'tcp-info': a TCP_INFO frame follows the payload, and the transfer ends with it. */
  tcpInfo: boolean;
}

/**
 * Handlers for one GET_FILE. BUSY (or ERROR) before FILE_META rejects and leaves the session
 * usable; any failure after it ends the session. `progress` describes what arrived either way.
 */
export function transferHandlers(
  request: GetFile,
  sink: TransferSink,
  timeouts: TransferTimeouts,
  progress: TransferProgress,
  { resolve, reject }: Settle<TransferProgress>,
  io: TransferIo,
): RequestHandlers {
  const mode = request.durationMs === undefined ? 'file' : 'duration';
  const totalMs = timeouts.totalMs + (request.durationMs ?? 0);
  let sentAtMs = 0;
  let lastActivityMs = 0;
  const payload = (data: Buffer, atMs: number) => {
    if (progress.firstPayloadAtMs === null) progress.firstPayloadAtMs = atMs;
    progress.lastPayloadAtMs = atMs;
    progress.bytes += data.length;
    sink.onPayload(data, atMs);
  };
  const unexpected = (what: string) =>
    io.terminate(new ProtocolError(ErrorCodes.unexpectedMessage, `${what} from ${io.where} during GET_FILE`));
  /** The payload is complete (last raw byte, or DATA_END); with 'tcp-info' the TCP_INFO frame still comes. */
  let payloadDone = false;
  const payloadEnded = () => {
    payloadDone = true;
    if (!io.tcpInfo) resolve(progress);
  };
  return {
    onSent: (atMs) => {
      sentAtMs = atMs;
      lastActivityMs = atMs;
      progress.requestedAtMs = atMs;
    },
    onChunk: (atMs) => {
      if (progress.firstByteAtMs === null) progress.firstByteAtMs = atMs;
      lastActivityMs = atMs;
    },
    onRaw: (data, atMs) => {
      payload(data, atMs);
      if (progress.bytes === progress.meta?.sizeBytes) payloadEnded();
    },
    onPart: (data, atMs) => {
      if (progress.meta?.mode !== 'duration') return unexpected('DATA');
      payload(data, atMs);
    },
    onMessage: (message, atMs) => {
      const meta = progress.meta;
      switch (message.type) {
        case 'FILE_META': {
          if (meta !== null) return unexpected('a second FILE_META');
          const { type: _type, ...fileMeta } = message;
          if (fileMeta.mode !== mode || fileMeta.name !== request.name) {
            return unexpected(`FILE_META for ${fileMeta.name} (${fileMeta.mode} mode)`);
          }
          progress.meta = fileMeta;
          sink.onMeta?.(fileMeta, atMs);
          if (mode === 'file') {
            if (fileMeta.sizeBytes === 0) return payloadEnded();
            io.expectRaw(fileMeta.sizeBytes);
          } else io.streamData(true);
          return;
        }
        case 'DATA':
          // After a duration FILE_META DATA payloads come as parts (onPart); a whole frame is out of place.
          return unexpected('DATA');
        case 'DATA_END':
          if (meta?.mode !== 'duration') return unexpected('DATA_END');
          if (message.bytes !== progress.bytes) {
            return io.terminate(
              new ProtocolError(
                ErrorCodes.protocol,
                `${io.where} ended a duration transfer claiming ${message.bytes} bytes; ${progress.bytes} arrived`,
              ),
            );
          }
          io.streamData(false);
          return payloadEnded();
        case 'TCP_INFO': {
          if (!io.tcpInfo || !payloadDone) return unexpected('TCP_INFO');
          const { type: _type, ...tcp } = message;
          progress.tcp = tcp;
          return resolve(progress);
        }
        case 'BUSY':
        case 'ERROR':
          if (meta !== null) io.terminate(remoteError(message));
          else reject(remoteError(message));
          return;
        default:
          return unexpected(message.type);
      }
    },
    deadline: () => {
      if (progress.meta === null) {
        return {
          atMs: sentAtMs + timeouts.responseMs,
          error: () =>
            new ConnectionError(ErrorCodes.timeout, `${io.where} did not answer GET_FILE ${request.name} within ${timeouts.responseMs} ms`),
        };
      }
      const idleAt = lastActivityMs + timeouts.idleMs;
      const totalAt = sentAtMs + totalMs;
      return idleAt < totalAt
        ? {
            atMs: idleAt,
            error: () =>
              new ConnectionError(ErrorCodes.timeout, `${io.where} sent nothing for ${timeouts.idleMs} ms during GET_FILE ${request.name}`),
          }
        : {
            atMs: totalAt,
            error: () =>
              new ConnectionError(ErrorCodes.timeout, `GET_FILE ${request.name} from ${io.where} took longer than ${totalMs} ms`),
          };
    },
  };
}
