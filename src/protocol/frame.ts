/**
 * Frame layer of the netprobe wire protocol (version 1).
 *
 *   type:u8 | length:u32 big-endian | payload (length bytes)
 *
 * After a FILE_META frame the sender writes exactly `sizeBytes` raw (unframed) bytes; the decoder
 * is told so with `expectRaw`. Pure: no sockets, only Buffers.
 */

export const PROTOCOL_VERSION = 1;
export const ALPN_PROTOCOL = 'netprobe/1';

export const HEADER_BYTES = 5;
/** Length field is u32; this is the protocol ceiling, peers configure lower limits. */
export const MAX_LENGTH_FIELD = 0xffff_ffff;
/** Default limit on one frame's payload: REPORT batches are the largest control frames. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** DATA frames (duration mode) carry at most this many payload bytes each. */
export const MAX_DATA_CHUNK_BYTES = 256 * 1024;

export const FrameType = {
  HELLO: 0x01,
  WELCOME: 0x02,
  PING: 0x03,
  PONG: 0x04,
  GET_FILE: 0x05,
  FILE_META: 0x06,
  DATA: 0x07,
  DATA_END: 0x08,
  REPORT: 0x09,
  ACK: 0x0a,
  BUSY: 0x0b,
  ERROR: 0x0c,
  /** Upload (capability 'upload'): client → server request, then DATA frames and DATA_END from the client. */
  PUT: 0x0d,
  PUT_READY: 0x0e,
  PUT_RESULT: 0x0f,
  /** Capability 'tcp-info': after a download's payload, the server's TCP view of sending it. */
  TCP_INFO: 0x10,
} as const;

export type FrameTypeName = keyof typeof FrameType;
export type FrameTypeValue = (typeof FrameType)[FrameTypeName];

const namesByValue = new Map<number, FrameTypeName>(
  (Object.entries(FrameType) as [FrameTypeName, FrameTypeValue][]).map(([name, value]) => [value, name]),
);

export function frameTypeName(type: number): FrameTypeName | undefined {
  return namesByValue.get(type);
}

export function encodeHeader(type: FrameTypeValue, length: number): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 1);
  return header;
}

export function encodeFrame(type: FrameTypeValue, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt8(type, 0);
  frame.writeUInt32BE(payload.length, 1);
  payload.copy(frame, HEADER_BYTES);
  return frame;
}
