/**
 * One transfer attempt over N sessions at once (--streams N): every stream asks for the same file
 * (GET_FILE or PUT) at the same time. The first failure ends the attempt: the other streams are
 * cut (their sessions terminated, to be reopened by the caller) and that failure is thrown, so a
 * BUSY for one stream is honoured for the measurement as a whole. Each stream is one transfer for
 * the server's concurrency limits.
 */
import { ConnectionError, ErrorCodes, RemoteError } from '../errors.js';
import type { GetFile } from '../protocol/messages.js';
import { type DeliveryCurve, DeliveryRecorder } from '../tcp-info.js';
import { type MeterReading, TransferMeter } from './meter.js';
import type { Session } from './session.js';
import { type StreamTrace, deliveryTrace } from './streams.js';
import { type TransferProgress, type TransferTimeouts, newTransferProgress } from './transfer.js';
import { type UploadOutcome, type UploadTimeouts, upload } from './upload.js';

export interface DownloadStream {
  progress: TransferProgress;
  meter: TransferMeter;
  reading?: MeterReading;
  /** This stream's bytes just after every stream's first and last payload arrival (streams.ts `StreamTrace.marks`). */
  marks: [atMs: number, bytes: number][];
  /**
   * With several streams, our TCP's delivery curve as the receiver (segments as they arrived,
   * src/tcp-info.ts) from FILE_META to the last byte, performance.now() clock; null where TCP_INFO
   * cannot be read (or the stream failed before FILE_META).
   */
  arrivals: DeliveryCurve | null;
}

/** A new progress and meter for each of `count` streams. */
export function downloadStreams(count: number, verify: boolean): DownloadStream[] {
  return Array.from({ length: count }, () => ({
    progress: newTransferProgress(),
    meter: new TransferMeter(undefined, verify),
    marks: [],
    arrivals: null,
  }));
}

/** Marks every stream with its bytes now (after the arrival at `atMs` was counted). */
function markAll(streams: readonly DownloadStream[], atMs: number, bytes: readonly number[]): void {
  streams.forEach((s, i) => s.marks.push([atMs, bytes[i]!]));
}

/**
 * Downloads on every session at once; `onMeta` runs for each stream's FILE_META (the loaded period
 * begins with the first). Fills each stream's reading when it completes.
 */
export async function downloadParallel(
  sessions: readonly Session[],
  streams: readonly DownloadStream[],
  request: GetFile,
  timeouts: TransferTimeouts,
  onMeta: () => void,
): Promise<void> {
  await settleAll(
    sessions,
    sessions.map(async (session, i) => {
      const stream = streams[i]!;
      // Every stream's bytes at this stream's latest arrival: its last one marks the others at its end.
      // Overwritten in place on each payload chunk (the hot path allocates nothing); marks copy it.
      let latestAtMs: number | undefined;
      const latestBytes = new Array<number>(streams.length).fill(0);
      // Started at this stream's FILE_META, not at GET_FILE: the segments before it (the request's
      // answer) are not payload, and streams whose FILE_META came late would count them as an early
      // delivery (one run read 9.15 Mbit/s against the link's 9.56 that way).
      let recorder: DeliveryRecorder | null = null;
      const sink = {
        onMeta: (meta: Parameters<TransferMeter['onMeta']>[0]) => {
          if (streams.length > 1) recorder = new DeliveryRecorder(session.socket, 'receiver');
          stream.meter.onMeta(meta);
          onMeta();
        },
        onPayload: (data: Buffer, atMs: number) => {
          if (streams.length === 1) return stream.meter.onPayload(data, atMs);
          const first = stream.meter.firstAtMs < 0;
          stream.meter.onPayload(data, atMs);
          latestAtMs = atMs;
          for (let j = 0; j < streams.length; j++) latestBytes[j] = streams[j]!.progress.bytes;
          if (first) markAll(streams, atMs, latestBytes);
        },
      };
      try {
        await session.getFile(request, sink, timeouts, stream.progress);
      } finally {
        // On failure too: the recorder's timer must not outlive the download.
        stream.arrivals = (recorder as DeliveryRecorder | null)?.finish() ?? null;
      }
      if (latestAtMs !== undefined) markAll(streams, latestAtMs, latestBytes);
      const p = stream.progress;
      stream.reading = stream.meter.finish(p.lastPayloadAtMs ?? p.firstByteAtMs ?? p.requestedAtMs ?? 0);
    }),
  );
}

/**
 * Uploads on every session at once; returns each stream's outcome (the server's measurement, and
 * with several streams our TCP's delivery curve: their common interval is cut on it).
 */
export async function uploadParallel(
  sessions: readonly Session[],
  request: Parameters<typeof upload>[1],
  timeouts: UploadTimeouts,
  onStart: () => void,
): Promise<UploadOutcome[]> {
  return settleAll(
    sessions,
    sessions.map((session) => upload(session, request, timeouts, onStart, sessions.length > 1)),
  );
}

/** Waits for every stream; on the first failure terminates the other sessions and throws it. */
async function settleAll<T>(sessions: readonly Session[], running: Promise<T>[]): Promise<T[]> {
  let first: unknown;
  const watched = running.map((p, i) =>
    p.catch((err: unknown) => {
      if (first === undefined) {
        first = err;
        const cut = new ConnectionError(ErrorCodes.closed, `stream ${i + 1} of ${sessions.length} failed: the other streams are cut`);
        sessions.forEach((s, j) => {
          if (j !== i) s.terminate(cut);
        });
      }
      throw err;
    }),
  );
  const settled = await Promise.allSettled(watched);
  if (first !== undefined) throw first;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/**
 * Every download stream's trace on our clock: from our TCP's delivery curves as the receiver when
 * every stream has one, else from the arrivals our process saw (`downloadTrace`).
 */
export function downloadTraces(streams: readonly DownloadStream[]): StreamTrace[] {
  const byKernel = streams.map((s) => (s.arrivals === null ? undefined : deliveryTrace(s.arrivals, s.progress.bytes)));
  return byKernel.every((t) => t !== undefined) ? byKernel : streams.map(downloadTrace);
}

/** A download stream's trace from the arrivals our process saw (client clock). */
export function downloadTrace(stream: DownloadStream): StreamTrace {
  const p = stream.progress;
  const first = p.firstPayloadAtMs ?? 0;
  return {
    firstAtMs: first,
    lastAtMs: p.lastPayloadAtMs ?? first,
    bytes: p.bytes,
    samplesMbps: stream.reading?.samplesMbps ?? [],
    marks: stream.marks,
  };
}

/**
 * Every upload stream's trace on one clock: from our TCP's delivery curves (our clock) when every
 * stream has one, else from the server's arrival figures (its clock; `uploadTrace`). Undefined when
 * neither is there for every stream.
 */
export function uploadTraces(sent: readonly UploadOutcome[]): StreamTrace[] | undefined {
  const bySender = sent.map((s) => (s.delivery === null ? undefined : deliveryTrace(s.delivery, s.result.bytes)));
  if (bySender.every((t) => t !== undefined)) return bySender;
  const byReceiver = sent.map(uploadTrace);
  return byReceiver.every((t) => t !== undefined) ? byReceiver : undefined;
}

/**
 * An upload stream's trace on the server's clock (epoch ms with sub-ms resolution, sent by servers
 * with the 'streams' capability; with 'upload-marks' also its arrival curve as marks), or undefined
 * from a server that does not say when bytes arrived.
 */
export function uploadTrace(outcome: UploadOutcome): StreamTrace | undefined {
  const r = outcome.result;
  if (r.firstAtUnixMs === undefined || r.lastAtUnixMs === undefined) return undefined;
  const first = r.firstAtUnixMs;
  const trace: StreamTrace = { firstAtMs: first, lastAtMs: r.lastAtUnixMs, bytes: r.bytes, samplesMbps: r.samplesMbps };
  // A server with 'upload-marks' says how the bytes arrived every ~10 ms: the ends are cut there.
  return r.arrivalMarks === undefined
    ? trace
    : { ...trace, marks: r.arrivalMarks.map(([offsetMs, bytes]) => [first + offsetMs, bytes] as const) };
}

/** A BUSY answer to one stream: the whole measurement waits and retries. */
export function isBusy(err: unknown): err is RemoteError {
  return err instanceof RemoteError && err.code === ErrorCodes.busy;
}
