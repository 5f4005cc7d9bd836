/**
 * One lane of the over-TLS fuzz: a TLS connection to the server that delivers inputs one at a time
 * and classifies what the server did with each: `error` (an ERROR frame, then the server closes),
 * `closed` (the server closed without answering: only for inputs that end inside a frame, after
 * which the lane half-closes), or `answered` (every frame of the input was valid: the PING sent
 * after it came back). A lane opens a new connection after every error or close.
 */
import tls, { type SecureContext, type TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { ALPN_PROTOCOL } from '../../src/protocol/frame.js';

export type Outcome = { kind: 'error'; code: string } | { kind: 'closed' } | { kind: 'answered' } | { kind: 'stuck' };

/** Whether the server's decoder will end this input inside a frame (it then waits for more bytes). */
export function endsInsideFrame(bytes: Buffer, maxFrameBytes: number): boolean {
  const decoder = new FrameDecoder({ maxFrameBytes });
  try {
    for (const _ of decoder.push(bytes)) {
      // frames are counted by the server; only the remainder matters here
    }
  } catch {
    return false;
  }
  return decoder.bufferedBytes > 0;
}

export interface LaneOptions {
  port: number;
  secureContext: SecureContext;
  maxFrameBytes: number;
  /** An input not settled after this long is `stuck` (a failure of the test, not a wait). */
  stuckAfterMs: number;
}

export class Lane {
  private socket: TLSSocket | undefined;
  private session: Buffer | undefined;
  private decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
  private settle: ((o: Outcome) => void) | undefined;
  private sentinel = 0;
  private errorCode: string | undefined;
  connections = 0;
  resumed = 0;

  constructor(private readonly options: LaneOptions) {}

  /** Opens a connection (resuming the last TLS session unless `full`); greets unless `greet` is false. */
  async open(full: boolean, greet: boolean): Promise<void> {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: this.options.port,
      secureContext: this.options.secureContext,
      ALPNProtocols: [ALPN_PROTOCOL],
      rejectUnauthorized: true,
      ...(full || this.session === undefined ? {} : { session: this.session }),
    });
    this.socket = socket;
    this.decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
    this.errorCode = undefined;
    socket.on('session', (s: Buffer) => (this.session = s));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.finish(this.errorCode === undefined ? { kind: 'closed' } : { kind: 'error', code: this.errorCode });
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('close', () => reject(new Error('closed during the TLS handshake')));
    });
    this.connections++;
    if (socket.isSessionReused()) this.resumed++;
    if (greet) {
      const welcome = await this.deliver(encodeMessage({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'fuzz', capabilities: [] }));
      if (welcome.kind !== 'answered') throw new Error(`HELLO not answered: ${JSON.stringify(welcome)}`);
    }
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  private finish(outcome: Outcome): void {
    const settle = this.settle;
    this.settle = undefined;
    settle?.(outcome);
  }

  private onData(chunk: Buffer): void {
    try {
      for (const item of this.decoder.push(chunk)) {
        if (item.kind !== 'frame') continue;
        const message = parseMessage(item);
        if (message.type === 'ERROR') this.errorCode = message.code;
        else if (message.type === 'PONG' && message.seq === this.sentinel) this.finish({ kind: 'answered' });
        else if (message.type === 'FILE_META') {
          // A fuzz frame that happened to name a real file: take a file, refuse to sit through a stream.
          if (message.mode === 'file') this.decoder.expectRaw(message.sizeBytes);
          else this.socket?.destroy();
        }
      }
    } catch {
      this.socket?.destroy();
    }
  }

  /** Sends one input and resolves with what the server did with it. */
  deliver(bytes: Buffer): Promise<Outcome> {
    const socket = this.socket;
    if (socket === undefined) return Promise.resolve({ kind: 'closed' });
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => {
        this.finish({ kind: 'stuck' });
        socket.destroy();
      }, this.options.stuckAfterMs);
      this.settle = (o) => {
        clearTimeout(timer);
        resolve(o);
      };
      if (endsInsideFrame(bytes, this.options.maxFrameBytes)) {
        socket.end(bytes);
      } else {
        this.sentinel = Math.floor(Math.random() * 2 ** 40);
        socket.write(Buffer.concat([bytes, encodeMessage({ type: 'PING', seq: this.sentinel })]));
      }
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}
