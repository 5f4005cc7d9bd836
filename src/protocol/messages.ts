import { z } from 'zod';
import { ErrorCodes, ProtocolError } from '../errors.js';
import { FrameType, type FrameTypeValue, encodeFrame, frameTypeName } from './frame.js';
import type { Frame } from './decoder.js';
import { resultSchema } from './result.js';

/** Largest number of results one REPORT may carry (the server may set a lower limit). */
export const MAX_RESULTS_PER_REPORT = 1_000;
export const MAX_DURATION_MODE_MS = 600_000;

const text = (max: number) => z.string().max(max);
const fileName = z.string().min(1).max(128);

/**
 * The capabilities (HELLO/WELCOME) both sides of this version list wherever they run; docs/protocol.md
 * says what each one changes. Each side may list more: 'kernel-rtt' where its addon loads
 * (src/tcp-info.ts), and 'ping-only', which a client lists on its loaded-RTT connection only.
 */
export const SHARED_CAPABILITIES: readonly string[] = ['duration', 'report', 'upload', 'streams', 'self-ping', 'upload-marks', 'tcp-info'];

export const helloSchema = z.strictObject({
  version: z.number().int().min(0).max(0xffff),
  software: text(64),
  capabilities: z.array(text(32)).max(32),
});
export const welcomeSchema = z.strictObject({
  version: z.number().int().min(0).max(0xffff),
  serverId: text(128),
  /** Server wall clock, ms since the epoch. */
  serverTimeMs: z.number().finite(),
  capabilities: z.array(text(32)).max(32),
  maxFrameBytes: z.number().int().positive(),
  maxResultsPerReport: z.number().int().positive(),
  /** Names of the files this server serves. */
  files: z.array(fileName).max(10_000),
});
export const pingSchema = z.strictObject({ seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export const pongSchema = z.strictObject({
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  serverTimeMs: z.number().finite(),
});
export const getFileSchema = z.strictObject({
  name: fileName,
  /** Duration mode: stream DATA frames for this long instead of the file once. */
  durationMs: z.number().int().min(1).max(MAX_DURATION_MODE_MS).optional(),
});
export const fileMetaSchema = z.strictObject({
  name: fileName,
  /** Raw bytes that follow; 0 in duration mode (DATA frames follow instead). */
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Hex SHA-256 of the file; null in duration mode. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  mode: z.enum(['file', 'duration']),
});
export const dataEndSchema = z.strictObject({ bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) });
export const reportSchema = z.strictObject({ results: z.array(resultSchema).min(1).max(MAX_RESULTS_PER_REPORT) });
/** The REPORT without its results' contents (checked one by one: see parseReport). */
const reportEnvelopeSchema = z.strictObject({ results: z.array(z.unknown()).min(1).max(MAX_RESULTS_PER_REPORT) });
export const ackSchema = z.strictObject({
  /** Every id of the REPORT that is now durably stored (new or seen before). */
  ids: z.array(z.uuid()).max(MAX_RESULTS_PER_REPORT),
  duplicates: z.number().int().min(0).max(MAX_RESULTS_PER_REPORT),
});
export const busySchema = z.strictObject({
  retryAfterMs: z.number().int().min(0).max(3_600_000),
  reason: text(256),
});
/**
 * Upload request (both sides declared the 'upload' capability), the mirror of GET_FILE: the client
 * sends as many bytes as the named file holds (file mode) or sends for durationMs (duration mode).
 * The server answers PUT_READY (then the client sends DATA frames and DATA_END {bytes}), BUSY or
 * ERROR; after DATA_END it answers PUT_RESULT with its own measurement of what it received.
 */
export const putSchema = z.strictObject({
  name: fileName,
  durationMs: z.number().int().min(1).max(MAX_DURATION_MODE_MS).optional(),
});
export const putReadySchema = z.strictObject({
  /** File mode: bytes to send (the file's size); 0 in duration mode. */
  sizeBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The most bytes this upload may carry; beyond them the server answers ERROR and closes. */
  maxBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The upload must end (DATA_END received) within this long after PUT_READY. */
  maxDurationMs: z
    .number()
    .int()
    .min(0)
    .max(MAX_DURATION_MODE_MS * 2),
});
/** Most points of a PUT_RESULT's `arrivalMarks` before its last (src/server/upload.ts thins its ticks to stay within). */
export const MAX_ARRIVAL_MARKS = 2_000;

export const putResultSchema = z.strictObject({
  /** Payload bytes received (DATA payloads). */
  bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Arrival of the first payload chunk to arrival of the last, at the server. */
  transferMs: z.number().finite().min(0),
  throughputMbps: z.number().finite().min(0).nullable(),
  samplesMbps: z.array(z.number().finite().min(0)).max(2_400),
  /** The server's CPU, not the network, bounded the upload. */
  serverLimited: z.boolean(),
  /**
   * Capability 'streams' (both sides): arrival of the first and of the last payload chunk, epoch ms
   * with sub-ms resolution, so the client can find the common interval of parallel uploads.
   */
  firstAtUnixMs: z.number().finite().min(0).optional(),
  lastAtUnixMs: z.number().finite().min(0).optional(),
  /**
   * Capability 'upload-marks' (both sides, with 'streams'): the arrival curve, [ms after
   * firstAtUnixMs, payload bytes received by then] at the first read of every ~10 ms, ending at the
   * last arrival with all bytes (src/server/upload.ts), so parallel uploads' common interval is cut
   * at the instants it begins and ends rather than inside 250 ms windows.
   */
  arrivalMarks: z
    .array(z.tuple([z.number().finite().min(0), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]))
    .max(MAX_ARRIVAL_MARKS + 1)
    .optional(),
});
/**
 * Capability 'tcp-info' (both sides): right after a download's payload (the last raw byte, or
 * DATA_END) the server sends what its TCP saw while sending it (src/tcp-info.ts): the median of its
 * kernel's smoothed RTT samples, their count, and the segments it retransmitted; null where the
 * server cannot read TCP_INFO.
 */
export const tcpInfoSchema = z.strictObject({
  rttMs: z.number().finite().min(0).max(3_600_000).nullable(),
  samples: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  retransmits: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
});
export const errorSchema = z.strictObject({ code: text(64).min(1), message: text(1024) });

export type Hello = z.infer<typeof helloSchema>;
export type Welcome = z.infer<typeof welcomeSchema>;
export type GetFile = z.infer<typeof getFileSchema>;
export type FileMeta = z.infer<typeof fileMetaSchema>;
export type Put = z.infer<typeof putSchema>;
export type PutResult = z.infer<typeof putResultSchema>;

export type Message =
  | ({ type: 'HELLO' } & Hello)
  | ({ type: 'WELCOME' } & Welcome)
  | ({ type: 'PING' } & z.infer<typeof pingSchema>)
  | ({ type: 'PONG' } & z.infer<typeof pongSchema>)
  | ({ type: 'GET_FILE' } & GetFile)
  | ({ type: 'FILE_META' } & FileMeta)
  | { type: 'DATA'; payload: Buffer }
  | ({ type: 'DATA_END' } & z.infer<typeof dataEndSchema>)
  | ({ type: 'REPORT' } & z.infer<typeof reportSchema>)
  | ({ type: 'ACK' } & z.infer<typeof ackSchema>)
  | ({ type: 'BUSY' } & z.infer<typeof busySchema>)
  | ({ type: 'ERROR' } & z.infer<typeof errorSchema>)
  | ({ type: 'PUT' } & Put)
  | ({ type: 'PUT_READY' } & z.infer<typeof putReadySchema>)
  | ({ type: 'PUT_RESULT' } & PutResult)
  | ({ type: 'TCP_INFO' } & z.infer<typeof tcpInfoSchema>);

export type MessageType = Message['type'];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

type JsonType = Exclude<MessageType, 'DATA'>;
const schemas: { [T in JsonType]: z.ZodType<Omit<MessageOf<T>, 'type'>> } = {
  HELLO: helloSchema,
  WELCOME: welcomeSchema,
  PING: pingSchema,
  PONG: pongSchema,
  GET_FILE: getFileSchema,
  FILE_META: fileMetaSchema,
  DATA_END: dataEndSchema,
  REPORT: reportSchema,
  ACK: ackSchema,
  BUSY: busySchema,
  ERROR: errorSchema,
  PUT: putSchema,
  PUT_READY: putReadySchema,
  PUT_RESULT: putResultSchema,
  TCP_INFO: tcpInfoSchema,
};

/** Serialises a message into one frame. JSON payloads are not re-validated here (our own data). */
export function encodeMessage(message: Message): Buffer {
  const type: FrameTypeValue = FrameType[message.type];
  if (message.type === 'DATA') return encodeFrame(type, message.payload);
  const { type: _omit, ...body } = message;
  return encodeFrame(type, Buffer.from(JSON.stringify(body), 'utf8'));
}

/** Turns a decoded frame into a validated message; throws ProtocolError on anything else. */
export function parseMessage(frame: Frame): Message {
  const name = frameTypeName(frame.type);
  if (name === undefined) throw new ProtocolError(ErrorCodes.unknownType, `unknown frame type ${frame.type}`);
  if (name === 'DATA') return { type: 'DATA', payload: frame.payload };
  let json: unknown;
  try {
    json = JSON.parse(frame.payload.toString('utf8'));
  } catch (err) {
    throw new ProtocolError(ErrorCodes.badPayload, `${name} payload is not valid JSON`, { cause: err });
  }
  if (name === 'REPORT') return { type: 'REPORT', ...parseReport(json) };
  const parsed = schemas[name].safeParse(json);
  if (!parsed.success) throw invalid(name, parsed.error.issues);
  return { type: name, ...parsed.data } as Message;
}

/** Issues named in an error message: enough to fix the sender, never a message sized by the input. */
const MAX_ISSUES_SHOWN = 3;

function invalid(name: string, issues: readonly z.core.$ZodIssue[], at?: number): ProtocolError {
  const shown = issues
    .slice(0, MAX_ISSUES_SHOWN)
    .map((issue) => (at === undefined ? issue : { ...issue, path: ['results', at, ...issue.path] }));
  const more = issues.length > MAX_ISSUES_SHOWN ? ` (and ${issues.length - MAX_ISSUES_SHOWN} more)` : '';
  return new ProtocolError(
    ErrorCodes.badPayload,
    `invalid ${name}: ${z.prettifyError({ issues: shown } as z.ZodError).slice(0, 500)}${more}`,
  );
}

/**
 * A REPORT validated result by result, stopping at the first invalid one: a hostile frame of
 * 1,000 bad results costs its JSON parse and one result's validation, not 1,000 results' issues.
 */
function parseReport(json: unknown): z.infer<typeof reportSchema> {
  const envelope = reportEnvelopeSchema.safeParse(json);
  if (!envelope.success) throw invalid('REPORT', envelope.error.issues);
  const results = envelope.data.results.map((item, i) => {
    const parsed = resultSchema.safeParse(item);
    if (!parsed.success) throw invalid('REPORT', parsed.error.issues, i);
    return parsed.data;
  });
  return { results };
}

/** Narrows a message to the expected type or throws (an ERROR from the peer keeps its code). */
export function expectMessage<T extends MessageType>(message: Message, type: T): MessageOf<T> {
  if (message.type === type) return message as MessageOf<T>;
  throw new ProtocolError(ErrorCodes.unexpectedMessage, `expected ${type}, got ${message.type}`);
}
