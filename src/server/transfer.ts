import type { Socket } from 'node:net';
import { ErrorCodes, NetprobeError } from '../errors.js';
import { FrameType, MAX_DATA_CHUNK_BYTES, encodeHeader } from '../protocol/frame.js';
import { encodeMessage } from '../protocol/messages.js';
import type { TestFile } from './catalogue.js';

/** Bytes handed to the socket per write when few connections are open: large enough to keep TLS busy. */
export const MAX_WRITE_SLICE_BYTES = 256 * 1024;
/** One TLS record's payload: smaller writes would only add records and calls. */
export const MIN_WRITE_SLICE_BYTES = 16 * 1024;
/**
 * Native memory a process lets its connections keep for writes. node's TLS socket encrypts each
 * write whole into one buffer sized for it, and keeps that buffer (node's NodeBIO keeps its write
 * head) until the connection closes: after one 1 MiB send per connection, 1,000 open connections
 * held 290 KiB each with 256 KiB writes and 11 KiB with 16 KiB writes (docs/profiling.md, part 6),
 * while 16 KiB writes cost a single 1 GiB send ~30 % more CPU. So the slice is this budget shared
 * by the connections open in the process, between the two bounds above.
 */
export const WRITE_BUDGET_BYTES = 16 * 1024 * 1024;

/** Bytes per socket write while `openConnections` connections are open in this process. */
export function writeSliceBytes(openConnections: number): number {
  // Whole TLS records: a 16,777-byte write would be one full record and one of 393 bytes.
  const records = Math.floor(WRITE_BUDGET_BYTES / Math.max(1, openConnections) / MIN_WRITE_SLICE_BYTES);
  return Math.min(MAX_WRITE_SLICE_BYTES, Math.max(1, records) * MIN_WRITE_SLICE_BYTES);
}

/**
 * With a shaper, pacing happens per slice: slices must be small against the file, or the wait for a
 * slice comes before its first byte and the transfer itself runs unshaped.
 */
const SHAPED_SLICE_BYTES = 16 * 1024;

/** Optional outbound pacing (the simulator's shared token bucket): ms to wait before sending `bytes`. */
export interface Shaper {
  reserve(bytes: number): number;
}

export interface TransferHooks {
  onBytes(bytes: number): void;
  shaper?: Shaper | undefined;
  /** Connections open in this process now: sizes the writes (writeSliceBytes). */
  openConnections?: () => number;
  /** Monotonic ms clock (duration mode). */
  monoNow?: () => number;
}

/**
 * Writes for one transfer, waiting for 'drain' when the socket's buffer is full (backpressure), or
 * failing when the socket closes first. One pair of listeners serves the whole transfer: with 16 KiB
 * slices nearly every write waits, and adding and removing two listeners per slice was 1.5–2 % of
 * the server's CPU in the 1,000-client round (docs/profiling.md, part 13).
 */
class TransferWriter {
  private waiting: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private closed = false;
  private readonly onDrain = (): void => {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.resolve();
  };
  private readonly onClose = (): void => {
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(closedError());
  };

  constructor(private readonly socket: Socket) {
    socket.on('drain', this.onDrain);
    socket.on('close', this.onClose);
  }

  /** undefined when the socket took `data` without filling its buffer; else a promise of the drain. */
  write(data: Buffer): Promise<void> | undefined {
    if (this.closed || this.socket.destroyed) return Promise.reject(closedError());
    if (this.socket.write(data)) return undefined;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Removes the listeners (the transfer ended, however it ended). */
  release(): void {
    this.socket.off('drain', this.onDrain);
    this.socket.off('close', this.onClose);
  }
}

function closedError(): NetprobeError {
  return new NetprobeError(ErrorCodes.closed, 'the client closed the connection during the transfer');
}

async function pace(hooks: TransferHooks, bytes: number): Promise<void> {
  const waitMs = hooks.shaper?.reserve(bytes) ?? 0;
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
}

/** FILE_META, then exactly file.sizeBytes raw bytes, sliced from the file's memory (no copy). */
export async function sendFile(socket: Socket, file: TestFile, hooks: TransferHooks): Promise<number> {
  const writer = new TransferWriter(socket);
  try {
    await writer.write(encodeMessage({ type: 'FILE_META', name: file.name, sizeBytes: file.sizeBytes, sha256: file.sha256, mode: 'file' }));
    let sent = 0;
    while (sent < file.sizeBytes) {
      const sliceBytes = hooks.shaper ? SHAPED_SLICE_BYTES : writeSliceBytes(hooks.openConnections?.() ?? 1);
      const slice = file.slice(sent, Math.min(sent + sliceBytes, file.sizeBytes));
      await pace(hooks, slice.length);
      const pending = writer.write(slice);
      sent += slice.length;
      hooks.onBytes(slice.length);
      if (pending) await pending;
    }
    return sent;
  } finally {
    writer.release();
  }
}

/** Duration mode: FILE_META, DATA frames cut from the file until `durationMs` passed, DATA_END. */
export async function sendForDuration(socket: Socket, file: TestFile, durationMs: number, hooks: TransferHooks): Promise<number> {
  const now = hooks.monoNow ?? (() => performance.now());
  const writer = new TransferWriter(socket);
  try {
    await writer.write(encodeMessage({ type: 'FILE_META', name: file.name, sizeBytes: 0, sha256: null, mode: 'duration' }));
    const deadline = now() + durationMs;
    let sent = 0;
    let offset = 0;
    while (now() < deadline) {
      // The connection may end between frames (an ERROR to a client's PING flood): stop writing.
      if (socket.destroyed || socket.writableEnded) throw closedError();
      // A frame is written whole (a PONG may follow it, never split it), so its size is the write slice.
      const frameBytes = hooks.shaper
        ? SHAPED_SLICE_BYTES
        : Math.min(MAX_DATA_CHUNK_BYTES, writeSliceBytes(hooks.openConnections?.() ?? 1));
      const chunk = Math.min(frameBytes, file.sizeBytes);
      if (offset + chunk > file.sizeBytes) offset = 0;
      const payload = file.slice(offset, offset + chunk);
      offset += chunk;
      await pace(hooks, payload.length);
      socket.cork();
      socket.write(encodeHeader(FrameType.DATA, payload.length));
      const pending = writer.write(payload);
      socket.uncork();
      sent += payload.length;
      hooks.onBytes(payload.length);
      if (pending) await pending;
    }
    await writer.write(encodeMessage({ type: 'DATA_END', bytes: sent }));
    return sent;
  } finally {
    writer.release();
  }
}
