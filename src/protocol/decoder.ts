import { ErrorCodes, ProtocolError } from '../errors.js';
import { DEFAULT_MAX_FRAME_BYTES, HEADER_BYTES, type FrameTypeValue, frameTypeName } from './frame.js';

export interface Frame {
  kind: 'frame';
  type: FrameTypeValue;
  payload: Buffer;
}

/** A slice of the raw byte stream that follows FILE_META. */
export interface RawChunk {
  kind: 'raw';
  data: Buffer;
}

/**
 * A piece of a streamed frame's payload (`streamPayloads`), a view of the pushed chunk's memory (no
 * copy); `last` on the piece that completes the frame (an empty frame gives one empty, last piece).
 */
export interface PayloadPart {
  kind: 'part';
  type: FrameTypeValue;
  data: Buffer;
  last: boolean;
}

export type Decoded = Frame | RawChunk | PayloadPart;

export interface DecoderOptions {
  /** Largest payload accepted; checked from the header, before any payload is buffered. */
  maxFrameBytes?: number;
}

/**
 * Streaming frame decoder. Feed it chunks of any size with `push`; it keeps the remainder.
 * `push` returns a lazy iterator: the consumer may call `expectRaw(n)` while handling a frame
 * (FILE_META) and the bytes after that frame are then yielded as raw chunks. Iterate it fully.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private rawRemaining = 0;
  /** Frames of this type come out as PayloadParts as their bytes arrive (streamPayloads). */
  private streamedType: FrameTypeValue | undefined;
  /** Payload bytes still to come of the streamed frame being read, and its type. */
  private partRemaining = 0;
  private partType: FrameTypeValue | undefined;
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private failed: ProtocolError | undefined;

  constructor(options: DecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  get expectingRaw(): number {
    return this.rawRemaining;
  }

  expectRaw(sizeBytes: number): void {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) throw new RangeError(`raw size ${sizeBytes} is not a byte count`);
    this.rawRemaining = sizeBytes;
  }

  /**
   * From now on, frames of `type` (DATA during an upload) are not assembled: their payload comes out
   * as PayloadParts, views of the pushed chunks, as soon as each chunk arrives, so a large frame is
   * never copied into one buffer. `undefined` assembles every frame again (a frame being streamed
   * still ends as parts). The length limit still applies, checked from the header.
   */
  streamPayloads(type: FrameTypeValue | undefined): void {
    this.streamedType = type;
  }

  *push(chunk: Buffer): Generator<Decoded, void, undefined> {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    try {
      for (;;) {
        if (this.partType !== undefined) {
          const part = this.takePart();
          if (part === undefined) return;
          yield part;
          continue;
        }
        if (this.rawRemaining > 0) {
          const raw = this.takeRaw();
          if (raw === undefined) return;
          yield raw;
          continue;
        }
        if (this.buffered < HEADER_BYTES) return;
        const header = this.peekHeader();
        const type = header.readUInt8(0);
        const length = header.readUInt32BE(1);
        if (frameTypeName(type) === undefined) {
          throw new ProtocolError(ErrorCodes.unknownType, `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
        }
        if (length > this.maxFrameBytes) {
          throw new ProtocolError(ErrorCodes.frameTooLarge, `frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
        }
        if (type === this.streamedType) {
          this.skip(HEADER_BYTES);
          this.partType = type as FrameTypeValue;
          this.partRemaining = length;
          continue;
        }
        if (this.buffered < HEADER_BYTES + length) return;
        const frameBytes = this.take(HEADER_BYTES + length);
        yield { kind: 'frame', type: type as FrameTypeValue, payload: frameBytes.subarray(HEADER_BYTES) };
      }
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.failed = err;
        this.chunks = [];
        this.buffered = 0;
      }
      throw err;
    }
  }

  /**
   * Copies whatever the decoder still holds of `chunk` (the rest of a frame that has not arrived in
   * full), so the caller may reuse the chunk's memory. Call after iterating `push(chunk)`.
   */
  detach(chunk: Buffer): void {
    for (let i = 0; i < this.chunks.length; i++) {
      const held = this.chunks[i]!;
      if (held.buffer === chunk.buffer) this.chunks[i] = Buffer.from(held);
    }
  }

  /** Throws if the stream ended inside a frame or inside the raw bytes. */
  end(): void {
    if (this.failed) return;
    if (this.rawRemaining > 0) {
      throw new ProtocolError(ErrorCodes.protocol, `stream ended ${this.rawRemaining} bytes before the end of the file`);
    }
    if (this.partType !== undefined) {
      throw new ProtocolError(
        ErrorCodes.protocol,
        `stream ended inside a ${frameTypeName(this.partType)} frame (${this.partRemaining} bytes of it missing)`,
      );
    }
    if (this.buffered > 0) {
      throw new ProtocolError(ErrorCodes.protocol, `stream ended inside a frame (${this.buffered} bytes pending)`);
    }
  }

  private takeRaw(): RawChunk | undefined {
    const first = this.chunks[0];
    if (first === undefined) return undefined;
    if (first.length <= this.rawRemaining) {
      this.chunks.shift();
      this.buffered -= first.length;
      this.rawRemaining -= first.length;
      return { kind: 'raw', data: first };
    }
    const data = first.subarray(0, this.rawRemaining);
    this.chunks[0] = first.subarray(this.rawRemaining);
    this.buffered -= this.rawRemaining;
    this.rawRemaining = 0;
    return { kind: 'raw', data };
  }

  /** The next piece of the streamed frame, or undefined until more bytes arrive. */
  private takePart(): PayloadPart | undefined {
    const type = this.partType!;
    const first = this.chunks[0];
    if (this.partRemaining > 0 && first === undefined) return undefined;
    let data: Buffer;
    if (this.partRemaining === 0) data = Buffer.alloc(0);
    else if (first!.length <= this.partRemaining) {
      this.chunks.shift();
      data = first!;
    } else {
      data = first!.subarray(0, this.partRemaining);
      this.chunks[0] = first!.subarray(this.partRemaining);
    }
    this.buffered -= data.length;
    this.partRemaining -= data.length;
    const last = this.partRemaining === 0;
    if (last) this.partType = undefined;
    return { kind: 'part', type, data, last };
  }

  /** The frame header (the first HEADER_BYTES buffered), copied out of however many chunks hold it; never merges the chunks. */
  private peekHeader(): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= HEADER_BYTES) return first.subarray(0, HEADER_BYTES);
    let at = 0;
    for (const chunk of this.chunks) {
      at += chunk.copy(this.header, at, 0, Math.min(chunk.length, HEADER_BYTES - at));
      if (at === HEADER_BYTES) break;
    }
    return this.header;
  }

  /** Drops the first `n` buffered bytes. */
  private skip(n: number): void {
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      if (first.length <= left) {
        this.chunks.shift();
        left -= first.length;
      } else {
        this.chunks[0] = first.subarray(left);
        left = 0;
      }
    }
    this.buffered -= n;
  }

  /** The first `n` buffered bytes, contiguous, without consuming them. */
  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const merged = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [merged];
    return merged.subarray(0, n);
  }

  private take(n: number): Buffer {
    const head = this.peek(n);
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return head;
  }
}
