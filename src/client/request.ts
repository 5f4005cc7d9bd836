/** The plumbing shared by the session's request handlers. */
import { ErrorCodes, RemoteError } from '../errors.js';
import type { Message } from '../protocol/messages.js';

/** The outstanding request, as the session's data handler sees it. */
export interface Pending {
  readonly what: string;
  /** Arrival of any chunk while this request is outstanding. */
  onChunk(atMs: number): void;
  onMessage(message: Message, atMs: number): void;
  onRaw(data: Buffer, atMs: number): void;
  /** A piece of a DATA frame's payload, as it arrives (duration-mode downloads ask for these: TransferIo.streamData). */
  onPart?(data: Buffer, atMs: number): void;
  fail(err: Error): void;
}

export interface Settle<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/** What a request supplies: reply handlers plus its timing hooks. */
export type RequestHandlers = Omit<Pending, 'what' | 'fail'> & {
  /** The request was handed to the socket (performance.now()). */
  onSent(atMs: number): void;
  /** performance.now() value after which the request times out, and the error to raise then. */
  deadline(): { atMs: number; error: () => Error };
};

/** An ERROR or BUSY answer as a RemoteError keeping the server's code (BUSY: NETPROBE_BUSY + retryAfterMs). */
export function remoteError(message: Extract<Message, { type: 'ERROR' | 'BUSY' }>): RemoteError {
  if (message.type === 'BUSY') return new RemoteError(ErrorCodes.busy, `server busy: ${message.reason}`, message.retryAfterMs);
  return new RemoteError(message.code, message.message);
}
