/**
 * The sending side of an upload: PUT, then DATA frames cut from one random buffer (incompressible,
 * never re-generated) with backpressure until the file's size is sent or the duration is up, then
 * DATA_END; the server's PUT_RESULT is the measurement (the receiver times what arrived).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConnectionError, ErrorCodes } from '../errors.js';
import { FrameType, MAX_DATA_CHUNK_BYTES, encodeHeader } from '../protocol/frame.js';
import type { Put, PutResult } from '../protocol/messages.js';
import { type DeliveryCurve, DeliveryRecorder, type TcpSummary, TcpSampler } from '../tcp-info.js';
import { TransferMeter } from './meter.js';
import type { Session } from './session.js';

/** One process-wide payload: random, so no compression anywhere on the path can flatter the rate. */
let payload: Buffer | undefined;
function uploadPayload(): Buffer {
  payload ??= randomBytes(MAX_DATA_CHUNK_BYTES);
  return payload;
}

export interface UploadTimeouts {
  /** PUT to PUT_READY, and DATA_END to PUT_RESULT. */
  responseMs: number;
  /** The sending itself (duration mode: on top of the duration). */
  totalMs: number;
}

export interface UploadOutcome {
  /** The server's measurement. */
  result: PutResult;
  /** performance.now(): PUT written, PUT_READY received, PUT_RESULT received. */
  requestedAtMs: number;
  readyAtMs: number;
  doneAtMs: number;
  /** Client CPU while sending and whether it bounded the rate. */
  cpuMs: number | null;
  clientLimited: boolean;
  /** Our TCP's view of sending it (we are the sender; src/tcp-info.ts). */
  tcp: TcpSummary;
  /**
   * Our TCP's delivery curve from PUT_READY to PUT_RESULT (performance.now() clock), when asked
   * for (parallel streams time their common interval by it) and TCP_INFO can be read; else null.
   */
  delivery: DeliveryCurve | null;
}

/** Called when PUT_READY arrived and the first byte is about to go (start of the loaded period). */
export type OnUploadStart = () => void;

export async function upload(
  session: Session,
  request: Put,
  timeouts: UploadTimeouts,
  onStart?: OnUploadStart,
  recordDelivery = false,
): Promise<UploadOutcome> {
  const requestedAtMs = performance.now();
  const ready = await session.put(request, timeouts.responseMs);
  const readyAtMs = performance.now();
  // From before the first DATA frame to after PUT_RESULT, which carries the ACK of every byte.
  const delivery = recordDelivery ? new DeliveryRecorder(session.socket, 'sender') : null;
  onStart?.();
  const meter = new TransferMeter(undefined, false);
  meter.begin(readyAtMs);
  // Self probes (PINGs between our DATA frames) may go while the payload flows.
  session.setUnderLoad(true);
  let sent: number;
  const tcp = new TcpSampler(session.socket);
  try {
    sent = await send(
      tcp,
      session,
      request.durationMs === undefined ? { sizeBytes: ready.sizeBytes } : { durationMs: request.durationMs },
      timeouts.totalMs + (request.durationMs ?? 0),
    );
  } catch (err) {
    delivery?.finish();
    throw err;
  } finally {
    session.setUnderLoad(false);
  }
  const reading = meter.finish(performance.now());
  // Sampled as the last bytes went out, before the queue behind them drains.
  const tcpSummary = tcp.finish();
  let result: PutResult;
  let curve: DeliveryCurve | null;
  try {
    result = await session.endUpload(sent, timeouts.responseMs);
  } finally {
    // On failure too: the recorder's timer must not outlive the upload.
    curve = delivery?.finish() ?? null;
  }
  return {
    result,
    requestedAtMs,
    readyAtMs,
    doneAtMs: performance.now(),
    cpuMs: reading.cpuMs,
    clientLimited: reading.clientLimited,
    tcp: tcpSummary,
    delivery: curve,
  };
}

/** Writes DATA frames until the size or duration is reached; waits for 'drain' when the socket's buffer is full. */
async function send(
  tcp: TcpSampler,
  session: Session,
  until: { sizeBytes: number } | { durationMs: number },
  totalMs: number,
): Promise<number> {
  const socket = session.socket;
  const data = uploadPayload();
  const startMs = performance.now();
  const deadlineMs = 'durationMs' in until ? startMs + until.durationMs : Infinity;
  const giveUpMs = startMs + totalMs;
  let sent = 0;
  for (;;) {
    const left = 'sizeBytes' in until ? until.sizeBytes - sent : data.length;
    if (left <= 0 || performance.now() >= deadlineMs) return sent;
    const failure = session.failureReason;
    if (failure) throw failure;
    if (performance.now() > giveUpMs) {
      const err = new ConnectionError(ErrorCodes.timeout, `upload to ${session.where} took longer than ${totalMs} ms`);
      session.terminate(err);
      throw err;
    }
    const chunk = left >= data.length ? data : data.subarray(0, left);
    socket.cork();
    socket.write(encodeHeader(FrameType.DATA, chunk.length));
    const flowing = socket.write(chunk);
    socket.uncork();
    sent += chunk.length;
    tcp.sample();
    if (!flowing) await drained(session);
  }
}

function drained(session: Session): Promise<void> {
  const socket = session.socket;
  return new Promise((resolve, reject) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      const failure = session.failureReason;
      if (socket.destroyed && failure) reject(failure);
      else if (socket.destroyed) reject(new ConnectionError(ErrorCodes.closed, `${session.where} closed the connection during the upload`));
      else resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
