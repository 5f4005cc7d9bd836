/**
 * A framed request/response session over an established TLS socket: HELLO, then one request at a
 * time (PING, GET_FILE, REPORT). The only place the client feeds socket bytes into the decoder.
 * Downloads are handled by ./transfer.ts.
 */
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { ConnectionError, ErrorCodes, NetprobeError, ProtocolError } from '../errors.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { FrameType, PROTOCOL_VERSION } from '../protocol/frame.js';
import {
  type GetFile,
  type Message,
  type Put,
  type PutResult,
  SHARED_CAPABILITIES,
  type Welcome,
  encodeMessage,
  parseMessage,
} from '../protocol/messages.js';
import type { Result } from '../protocol/result.js';
import { kernelRoundTrip, quickAck, tcpInfoSupport } from '../tcp-info.js';
import { type ChunkReader, type ConnectOptions, type Connected, connectTls, normaliseSocketError } from './connect.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { type Pending, type RequestHandlers, type Settle, remoteError } from './request.js';
import { type TransferProgress, type TransferSink, type TransferTimeouts, newTransferProgress, transferHandlers } from './transfer.js';

export const CLIENT_SOFTWARE = 'netprobe/0.1';
export const CLIENT_CAPABILITIES = [
  ...SHARED_CAPABILITIES,
  // Only where this client can read TCP_INFO and acknowledge each PONG at once (see ping()).
  ...(tcpInfoSupport().available ? ['kernel-rtt'] : []),
];
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export interface SessionOptions {
  maxFrameBytes?: number;
  requestTimeoutMs?: number;
}

interface SelfProbe {
  seq: number;
  /** performance.now() when the PING was written. */
  sentAtMs: number;
  settle(rttMs: number): void;
  fail(err: Error): void;
}

export class Session {
  readonly where: string;
  private readonly decoder: FrameDecoder;
  private readonly requestTimeoutMs: number;
  private pending: Pending | undefined;
  private failure: Error | undefined;
  private seq = 0;
  private receivedAny = false;
  /** A transfer's payload is flowing on this connection (a duration download or an upload): self probes may go. */
  private underLoad = false;
  private selfProbe: SelfProbe | undefined;
  /** Self probes that timed out: their late PONG is dropped, not taken for an answer to the transfer. */
  private readonly staleSelfSeqs = new Set<number>();
  welcome: Welcome | undefined;

  /** `reader`: the connection's byte source when it reads through `onread` (connectTls); else 'data' events. */
  constructor(
    readonly socket: TLSSocket,
    readonly endpoint: Endpoint,
    options: SessionOptions = {},
    reader?: ChunkReader,
  ) {
    this.where = formatEndpoint(endpoint);
    this.decoder = new FrameDecoder(options.maxFrameBytes === undefined ? {} : { maxFrameBytes: options.maxFrameBytes });
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (reader === undefined) socket.on('data', this.onData);
    else reader.attach(this.onData);
    socket.on('error', (err) => this.terminate(normaliseSocketError(err, endpoint, 'session')));
    socket.on('end', () => this.terminate(this.closedError()));
    socket.on('close', () => this.terminate(this.closedError()));
  }

  get closed(): boolean {
    return this.failure !== undefined;
  }

  private closedError(): ConnectionError {
    if (this.pending?.what === 'HELLO' && !this.receivedAny) {
      // With TLS 1.3 the server judges our certificate after our side of the handshake is done;
      // a refusal reaches us as a close with no data (node sends no alert text we could read).
      return new ConnectionError(
        ErrorCodes.tlsUnauthorized,
        `${this.where} closed the connection right after the TLS handshake without answering HELLO: it most likely refused our certificate (not signed by its CA, expired, or not a client certificate)`,
      );
    }
    const during = this.pending ? ` during ${this.pending.what}` : '';
    return new ConnectionError(ErrorCodes.closed, `${this.where} closed the connection${during}`);
  }

  private readonly onData = (chunk: Buffer): void => {
    const atMs = performance.now();
    this.receivedAny = true;
    this.pending?.onChunk(atMs);
    try {
      for (const item of this.decoder.push(chunk)) {
        const pending = this.pending;
        if (item.kind === 'raw') {
          if (pending === undefined) throw new ProtocolError(ErrorCodes.protocol, `raw bytes from ${this.where} with no download running`);
          pending.onRaw(item.data, atMs);
          continue;
        }
        if (item.kind === 'part') {
          // DATA payload of a duration-mode download, counted as it arrives (transfer.ts streamData).
          if (pending?.onPart === undefined) throw new Error('decoder yielded a payload part no request asked for (a bug)');
          pending.onPart(item.data, atMs);
          continue;
        }
        const message = parseMessage(item);
        const probe = this.selfProbe;
        if (message.type === 'PONG' && probe !== undefined && message.seq === probe.seq) {
          this.selfProbe = undefined;
          probe.settle(atMs - probe.sentAtMs);
          continue;
        }
        if (message.type === 'PONG' && this.staleSelfSeqs.delete(message.seq)) continue;
        if (pending !== undefined) pending.onMessage(message, atMs);
        else if (message.type === 'ERROR') this.terminate(remoteError(message));
        else throw new ProtocolError(ErrorCodes.unexpectedMessage, `unsolicited ${message.type} from ${this.where}`);
      }
    } catch (err) {
      this.terminate(err instanceof NetprobeError ? err : normaliseSocketError(err, this.endpoint, 'session'));
    }
    // The chunk's memory is reused for the next read: what the decoder keeps must be its own.
    this.decoder.detach(chunk);
  };

  /** Fails the outstanding request and every later one with `err`, and destroys the socket. */
  terminate(err: Error): void {
    if (this.failure === undefined) this.failure = err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.fail(err);
    this.endSelfProbe(err);
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private endSelfProbe(err: Error): void {
    const probe = this.selfProbe;
    this.selfProbe = undefined;
    probe?.fail(err);
  }

  /** Polite close: no request may follow. */
  close(): void {
    if (this.failure === undefined) this.failure = new ConnectionError(ErrorCodes.closed, `session with ${this.where} closed`);
    this.pending?.fail(this.failure);
    this.pending = undefined;
    this.endSelfProbe(this.failure);
    if (!this.socket.destroyed) this.socket.end();
  }

  /**
   * Sends `message` and feeds the replies to the handlers `build` returns until they settle. One
   * timer, re-armed from `deadline()` when it fires, enforces the timeouts: the per-chunk path only
   * stores a number.
   */
  private request<T>(message: Message, what: string, build: (settle: Settle<T>) => RequestHandlers): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending !== undefined) return Promise.reject(new Error(`${what} while ${this.pending.what} is outstanding`));
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        if (this.pending === pending) this.pending = undefined;
      };
      const handlers = build({
        resolve: (value) => {
          finish();
          resolve(value);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      });
      let armedAtMs = Infinity;
      const pending: Pending = {
        what,
        onChunk: handlers.onChunk,
        onMessage: (message, atMs) => {
          handlers.onMessage(message, atMs);
          // A message may bring the deadline forward (FILE_META: from the response timeout to the
          // shorter idle timeout); chunks only push it back, which the timer finds when it fires.
          if (this.pending === pending && handlers.deadline().atMs < armedAtMs) {
            clearTimeout(timer);
            arm();
          }
        },
        onRaw: handlers.onRaw,
        ...(handlers.onPart === undefined ? {} : { onPart: handlers.onPart }),
        fail: (err) => {
          finish();
          reject(err);
        },
      };
      const arm = () => {
        const { atMs, error } = handlers.deadline();
        const waitMs = atMs - performance.now();
        if (waitMs <= 0) {
          this.terminate(error());
          return;
        }
        armedAtMs = atMs;
        timer = setTimeout(arm, Math.ceil(waitMs));
      };
      this.pending = pending;
      this.socket.write(encodeMessage(message));
      handlers.onSent(performance.now());
      arm();
    });
  }

  /** A control request answered by one message of type `T` (or ERROR/BUSY, raised as RemoteError). */
  private control<K extends Message['type']>(
    message: Message,
    expected: K,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<Extract<Message, { type: K }>> {
    let sentAtMs = 0;
    return this.request<Extract<Message, { type: K }>>(message, message.type, ({ resolve, reject }) => ({
      onSent: (atMs) => {
        sentAtMs = atMs;
      },
      onChunk: () => undefined,
      onRaw: () => this.terminate(new ProtocolError(ErrorCodes.protocol, `raw bytes from ${this.where} outside a download`)),
      onMessage: (reply) => {
        if (reply.type === expected) resolve(reply as Extract<Message, { type: K }>);
        else if (reply.type === 'ERROR' || reply.type === 'BUSY') reject(remoteError(reply));
        else this.terminate(new ProtocolError(ErrorCodes.unexpectedMessage, `expected ${expected} from ${this.where}, got ${reply.type}`));
      },
      deadline: () => ({
        atMs: sentAtMs + timeoutMs,
        error: () => new ConnectionError(ErrorCodes.timeout, `${this.where} did not answer ${message.type} within ${timeoutMs} ms`),
      }),
    }));
  }

  /**
   * HELLO/WELCOME. `pingOnly`: the connection will carry PINGs only (the loaded-RTT probes), which
   * lets the server keep acknowledging each at once (capability 'ping-only', src/tcp-info.ts
   * PING_MIN_RTO_US); the server then refuses a transfer on it.
   */
  async hello(timeoutMs = this.requestTimeoutMs, { pingOnly = false } = {}): Promise<Welcome> {
    const capabilities = pingOnly ? [...CLIENT_CAPABILITIES, 'ping-only'] : CLIENT_CAPABILITIES;
    const reply = await this.control(
      { type: 'HELLO', version: PROTOCOL_VERSION, software: CLIENT_SOFTWARE, capabilities },
      'WELCOME',
      timeoutMs,
    );
    if (reply.version !== PROTOCOL_VERSION) {
      const err = new ProtocolError(
        ErrorCodes.protocolVersion,
        `${this.where} speaks protocol version ${reply.version}, this client ${PROTOCOL_VERSION}`,
      );
      this.terminate(err);
      throw err;
    }
    const { type: _type, ...welcome } = reply;
    this.welcome = welcome;
    return welcome;
  }

  /**
   * Round-trip time of one PING, ms: `rttMs` as this process saw it (PING written to PONG read), and
   * with capability 'kernel-rtt' `kernelRttMs`, the same round trip timed by the kernels (PING sent
   * to the server kernel's ACK, src/tcp-info.ts `kernelRoundTrip`), null without it.
   */
  async ping(timeoutMs = this.requestTimeoutMs): Promise<{ rttMs: number; kernelRttMs: number | null; serverTimeMs: number }> {
    const seq = this.seq++;
    const kernel = this.offers('kernel-rtt') ? kernelRoundTrip(this.socket) : undefined;
    const t = performance.now();
    const pong = await this.control({ type: 'PING', seq }, 'PONG', timeoutMs);
    const rttMs = performance.now() - t;
    const kernelRttMs = kernel?.finish(rttMs) ?? null;
    // The PONG's ACK leaves now rather than with the next PING: on a 'ping-only' connection the
    // server runs a short minimum RTO (src/tcp-info.ts PING_MIN_RTO_US) and would send it again.
    if (kernel !== undefined) quickAck(this.socket);
    if (pong.seq !== seq) {
      const err = new ProtocolError(ErrorCodes.protocol, `${this.where} answered PING ${seq} with PONG ${pong.seq}`);
      this.terminate(err);
      throw err;
    }
    return { rttMs, kernelRttMs, serverTimeMs: pong.serverTimeMs };
  }

  /**
   * A self probe (capability 'self-ping'): a PING on this connection while its transfer's payload
   * flows, answered by the server between the payload's frames. Resolves with the round trip in ms,
   * or null when none can be sent now (no transfer flowing, the server lacks the capability, one
   * already in flight). Not a request: the transfer stays the connection's one request.
   */
  selfPing(timeoutMs = this.requestTimeoutMs): Promise<number | null> {
    if (!this.underLoad || this.selfProbe !== undefined || this.failure !== undefined || !this.offers('self-ping')) {
      return Promise.resolve(null);
    }
    const seq = this.seq++;
    return new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.selfProbe !== probe) return;
        this.selfProbe = undefined;
        this.staleSelfSeqs.add(seq);
        reject(new ConnectionError(ErrorCodes.timeout, `${this.where} did not answer a PING during the transfer within ${timeoutMs} ms`));
      }, timeoutMs);
      const probe: SelfProbe = {
        seq,
        sentAtMs: performance.now(),
        settle: (rttMs) => {
          clearTimeout(timer);
          resolve(rttMs);
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.selfProbe = probe;
      this.socket.write(encodeMessage({ type: 'PING', seq }));
    });
  }

  /** The transfer's payload starts or stops flowing here (upload.ts; getFile marks duration downloads itself). */
  setUnderLoad(on: boolean): void {
    this.underLoad = on;
  }

  /** The server offered `capability` in WELCOME (this client always asks for all of its own). */
  offers(capability: string): boolean {
    return this.welcome?.capabilities.includes(capability) ?? false;
  }

  /** Why requests fail now, or undefined while the session is usable. */
  get failureReason(): Error | undefined {
    return this.failure;
  }

  /** PUT → PUT_READY (BUSY: RemoteError with retryAfterMs, the session stays usable). */
  async put(request: Put, timeoutMs: number): Promise<Extract<Message, { type: 'PUT_READY' }>> {
    return this.control({ type: 'PUT', ...request }, 'PUT_READY', timeoutMs);
  }

  /** DATA_END after an upload's DATA frames → the server's PUT_RESULT. */
  async endUpload(bytes: number, timeoutMs: number): Promise<PutResult> {
    const { type: _type, ...result } = await this.control({ type: 'DATA_END', bytes }, 'PUT_RESULT', timeoutMs);
    return result;
  }

  /** REPORT → ACK. Throws NETPROBE_FRAME_TOO_LARGE (nothing sent) when the batch exceeds the server's frame limit. */
  async report(results: Result[], timeoutMs = this.requestTimeoutMs): Promise<{ ids: string[]; duplicates: number }> {
    const message: Message = { type: 'REPORT', results };
    const limit = this.welcome?.maxFrameBytes;
    if (limit !== undefined) {
      const size = encodeMessage(message).length;
      if (size - 5 > limit)
        throw new ProtocolError(
          ErrorCodes.frameTooLarge,
          `REPORT of ${results.length} results is ${size} bytes; ${this.where} accepts ${limit}`,
        );
    }
    const ack = await this.control(message, 'ACK', timeoutMs);
    return { ids: ack.ids, duplicates: ack.duplicates };
  }

  /**
   * GET_FILE, then the payload into `sink`: raw bytes in file mode, DATA frames until DATA_END in
   * duration mode. BUSY rejects with RemoteError(NETPROBE_BUSY, retryAfterMs) and leaves the
   * session usable; any other failure leaves `progress` describing what arrived.
   */
  getFile(
    request: GetFile,
    sink: TransferSink,
    timeouts: TransferTimeouts,
    progress: TransferProgress = newTransferProgress(),
  ): Promise<TransferProgress> {
    const io = {
      where: this.where,
      expectRaw: (n: number) => this.decoder.expectRaw(n),
      streamData: (on: boolean) => this.decoder.streamPayloads(on ? FrameType.DATA : undefined),
      terminate: (err: Error) => this.terminate(err),
      tcpInfo: this.offers('tcp-info'),
    };
    // A duration download's payload is DATA frames, so a PONG fits between them: self probes may go
    // from FILE_META to the transfer's end (a file download's raw bytes leave no room for one).
    const loadedSink: TransferSink = {
      onMeta: (meta, atMs) => {
        if (meta.mode === 'duration') this.underLoad = true;
        sink.onMeta?.(meta, atMs);
      },
      onPayload: (data, atMs) => sink.onPayload(data, atMs),
    };
    const done = () => {
      this.underLoad = false;
    };
    const running = this.request<TransferProgress>({ type: 'GET_FILE', ...request }, `GET_FILE ${request.name}`, (settle) =>
      transferHandlers(request, loadedSink, timeouts, progress, settle, io),
    );
    running.then(done, done);
    return running;
  }
}

/**
 * A close with no answer to HELLO most often means the server refused our certificate, and that
 * refusal comes within a round trip of the handshake. One that comes seconds after the connection
 * began is the server's handshake deadline passing while this side (or the path) was slow: a network
 * failure (NETPROBE_TLS_HANDSHAKE), not a setup mistake. Pure; `elapsedMs` counts from the TCP connect.
 */
export const LATE_CLOSE_MS = 5_000;

export function explainEarlyClose(err: unknown, elapsedMs: number, where: string): unknown {
  if (!(err instanceof ConnectionError) || err.code !== ErrorCodes.tlsUnauthorized || elapsedMs < LATE_CLOSE_MS) return err;
  return new ConnectionError(
    ErrorCodes.tlsHandshake,
    `${where} closed the connection ${(elapsedMs / 1000).toFixed(1)} s after it was opened, before answering HELLO: the server's TLS handshake deadline (its --handshake-timeout, 10s by default) most likely passed while this side or the path was slow`,
  );
}

/** Connects (DNS, TCP, TLS) and completes HELLO/WELCOME; the session is ready for requests. */
export async function openSession(
  options: ConnectOptions & { requestTimeoutMs?: number | undefined; pingOnly?: boolean | undefined },
): Promise<{ session: Session; connected: Connected }> {
  const startedMs = performance.now();
  const connected = await connectTls(options);
  const session = new Session(
    connected.socket,
    options.endpoint,
    options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs },
    connected.reader,
  );
  try {
    await session.hello(undefined, { pingOnly: options.pingOnly === true });
  } catch (err) {
    const explained = explainEarlyClose(err, performance.now() - startedMs - (connected.timings.dnsMs ?? 0), session.where);
    session.terminate(explained instanceof Error ? explained : new Error(String(explained)));
    throw explained;
  }
  return { session, connected };
}
