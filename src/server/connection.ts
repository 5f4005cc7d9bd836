import type { TLSSocket } from 'node:tls';
import { ErrorCodes, NetprobeError, ProtocolError, errorCode, errorMessage } from '../errors.js';
import { type Frame, FrameDecoder } from '../protocol/decoder.js';
import { FrameType, PROTOCOL_VERSION } from '../protocol/frame.js';
import { type Message, type MessageOf, SHARED_CAPABILITIES, encodeMessage, parseMessage } from '../protocol/messages.js';
import type { Logger } from '../log.js';
import { PING_MIN_RTO_US, TcpSampler, quickAck, setMinRto, tcpInfoSupport } from '../tcp-info.js';
import type { TransferRecord } from '../store/types.js';
import type { Cost } from './budget.js';
import type { ActiveTransfer, ServerContext } from './context.js';
import { prepareResults } from './ingest.js';
import { SelfPings } from './self-ping.js';
import { sendFile, sendForDuration } from './transfer.js';
import { UploadReceiver, refusePut, uploadLimit } from './upload.js';

/** What this server offers in WELCOME; a feature is used only when the client's HELLO lists it too. */
export const SERVER_CAPABILITIES = [
  ...SHARED_CAPABILITIES,
  // Offered only where the kernel can be told to acknowledge a PING at once (the addon built).
  ...(tcpInfoSupport().available ? ['kernel-rtt'] : []),
  // A connection the client declares for PINGs only (its loaded-RTT probes): see hello().
  'ping-only',
];

/** An upload in progress on this connection. */
interface RunningUpload {
  receiver: UploadReceiver;
  /** With capability 'self-ping': PINGs between the DATA frames are answered. */
  selfPings: SelfPings | undefined;
  end(outcome: string): void;
}

/** After our FIN a peer gets this long to read what is left and close; then the socket is destroyed. */
export const CLOSE_GRACE_MS = 2_000;
/**
 * Bytes of answers (PONG, ACK, BUSY, ERROR, file data) the server keeps queued for one connection.
 * Above it the connection is not read until the peer has read them down, and a peer that reads
 * nothing for idleTimeoutMs is closed: a client that sends PINGs and never reads costs this much,
 * not the sum of every PONG.
 */
export const MAX_OUTBOUND_BYTES = 256 * 1024;

/** end(), then destroy if the peer has not closed within the grace period (a peer that never reads never lets 'finish' happen). */
export function endGracefully(socket: TLSSocket, data?: Buffer): void {
  if (socket.destroyed) return;
  if (data === undefined) socket.end();
  else socket.end(data);
  setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
}

/**
 * One client connection after the TLS handshake: HELLO first, then requests one at a time
 * (the next frame is read only after the previous request was answered).
 */
export class Connection {
  private greeted = false;
  private closing = false;
  /** A request is being served (transfer or commit); shutdown waits for it. */
  busy = false;
  private childLog: Logger | undefined;
  /** Armed while part of a frame is buffered: the rest must arrive within frameTimeoutMs. */
  private frameTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: TLSSocket,
    readonly client: string,
    private readonly ctx: ServerContext,
    private readonly parentLog: Logger,
  ) {
    this.decoder = new FrameDecoder({ maxFrameBytes: ctx.config.maxFrameBytes });
  }

  /** The connection's child logger, made on first use: most connections log nothing at the default level. */
  private get log(): Logger {
    this.childLog ??= this.parentLog.child({ client: this.client, peer: `${this.socket.remoteAddress}:${this.socket.remotePort}` });
    return this.childLog;
  }

  private readonly decoder: FrameDecoder;
  /** Capabilities both sides declared. */
  private capabilities = new Set<string>();
  private upload: RunningUpload | undefined;
  /** A duration-mode download with capability 'self-ping' is running: the socket is read meanwhile, for PINGs only. */
  private downloadPings: SelfPings | undefined;

  /** Reads frames: the socket is paused while a chunk's requests are served, then resumed. */
  start(): void {
    this.socket.on('data', (chunk: Buffer) => {
      if (this.downloadPings !== undefined) return this.pingsDuringDownload(this.downloadPings, chunk);
      const atMs = performance.now();
      this.upload?.receiver.onChunk(atMs, this.continuesRead());
      this.socket.pause();
      this.process(chunk, atMs).then(
        () => {
          this.watchPartialFrame();
          if (!this.closing && !this.socket.destroyed) this.socket.resume();
        },
        (err: unknown) => {
          this.busy = false;
          this.fail(err);
        },
      );
    });
    this.socket.once('close', () => {
      clearTimeout(this.frameTimer);
      this.upload?.end(ErrorCodes.closed);
    });
  }

  /** A chunk was read in this event-loop turn: see continuesRead(). */
  private reading = false;

  /**
   * Whether the chunk in hand comes from the same read of the socket as the one before it (the same
   * event-loop turn). One read of the kernel's buffer gives a TLS record per 'data' event, each tens
   * of µs after the last, but the bytes were all there before the read: an upload's arrival curve
   * takes them as one arrival (src/server/upload.ts).
   */
  private continuesRead(): boolean {
    if (this.reading) return true;
    this.reading = true;
    setImmediate(() => {
      this.reading = false;
    });
    return false;
  }

  /**
   * A chunk read while a download runs (capability 'self-ping'): PINGs are answered at once, their
   * PONG queued behind the DATA already written; any other frame is a protocol error. The
   * request's own generator (suspended in the download) finds the decoder's state as left here.
   */
  private pingsDuringDownload(pings: SelfPings, chunk: Buffer): void {
    try {
      for (const item of this.decoder.push(chunk)) {
        if (item.kind !== 'frame') throw new ProtocolError(ErrorCodes.protocol, 'unexpected payload from a client during a download');
        const message = this.parse(item);
        if (message.type !== 'PING')
          throw new ProtocolError(ErrorCodes.unexpectedMessage, `a client may not send ${message.type} during a download`);
        this.send(pings.pong(message, this.ctx.now()));
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** A peer that sends a frame a byte at a time would otherwise hold the connection forever (each byte resets the idle timer). */
  private watchPartialFrame(): void {
    if (this.decoder.bufferedBytes === 0) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
      return;
    }
    if (this.frameTimer !== undefined || this.socket.destroyed) return;
    const { frameTimeoutMs } = this.ctx.config;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.decoder.bufferedBytes > 0 && !this.busy) {
        this.fail(
          new NetprobeError(
            ErrorCodes.timeout,
            `a frame did not arrive in full within ${frameTimeoutMs} ms (${this.decoder.bufferedBytes} bytes of it so far)`,
          ),
        );
      }
    }, frameTimeoutMs);
  }

  private async process(chunk: Buffer, atMs: number): Promise<void> {
    for (const item of this.decoder.push(chunk)) {
      if (item.kind === 'raw') throw new ProtocolError(ErrorCodes.protocol, 'unexpected raw bytes from a client');
      if (item.kind === 'part') {
        // DATA payload during an upload, a view of the socket's chunk: counted and dropped, never copied.
        if (this.upload === undefined) throw new ProtocolError(ErrorCodes.unexpectedMessage, 'DATA outside an upload');
        this.upload.receiver.onData(item.data, atMs);
        continue;
      }
      if (this.upload !== undefined) {
        this.uploadFrame(this.upload, this.parse(item), atMs);
        continue;
      }
      this.busy = true;
      if (item.type === FrameType.REPORT && this.greeted && !(await this.withinBudget({ reportBytes: item.payload.length }))) {
        // Not parsed: BUSY costs the server the frame's bytes only.
      } else {
        await this.handle(this.parse(item));
      }
      if (this.socket.writableLength > MAX_OUTBOUND_BYTES) await this.drained();
      this.busy = false;
      if (this.closing) {
        endGracefully(this.socket);
        return;
      }
    }
  }

  /**
   * Waits (reading nothing meanwhile) until the peer has read our answers; a peer that reads nothing
   * for idleTimeoutMs is destroyed: it cannot read an ERROR either.
   */
  private drained(): Promise<void> {
    const { idleTimeoutMs } = this.ctx.config;
    return new Promise((resolve, reject) => {
      const done = (err?: NetprobeError) => {
        clearTimeout(timer);
        this.socket.off('drain', onDrain);
        this.socket.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new NetprobeError(ErrorCodes.closed, 'the client closed the connection'));
      const timer = setTimeout(() => {
        this.log.warn(
          { queuedBytes: this.socket.writableLength, idleTimeoutMs },
          'connection closed: the client stopped reading its answers',
        );
        this.socket.destroy();
        done(new NetprobeError(ErrorCodes.closed, 'the client stopped reading'));
      }, idleTimeoutMs);
      this.socket.on('drain', onDrain);
      this.socket.once('close', onClose);
    });
  }

  /** Takes `cost` from the client's budget, or answers BUSY with the wait and returns false. */
  private async withinBudget(cost: Cost): Promise<boolean> {
    const retryAfterMs = await this.ctx.budget.take(this.client, cost);
    if (retryAfterMs === 0) return true;
    this.ctx.metrics.busy++;
    this.ctx.events.emit('reportRejected', { reason: ErrorCodes.busy, results: cost.results ?? 0 });
    this.log.info({ ...cost, retryAfterMs }, 'busy: client over its budget');
    const what =
      cost.results === undefined
        ? `${this.ctx.config.clientReportBytesPerMinute} REPORT bytes`
        : `${this.ctx.config.clientResultsPerMinute} results`;
    this.send({ type: 'BUSY', retryAfterMs, reason: `over this client's budget of ${what} per minute` });
    // Nothing more is read from this connection until then (at most half the idle timeout, which
    // would otherwise close it): a client that ignores retry-after costs no more than one that obeys.
    const pauseMs = Math.min(retryAfterMs, this.ctx.config.idleTimeoutMs / 2);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, pauseMs);
      this.socket.once('close', done);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
    return false;
  }

  /** parseMessage, counting a REPORT that fails validation as rejected. */
  private parse(frame: Frame): Message {
    try {
      return parseMessage(frame);
    } catch (err) {
      if (frame.type === FrameType.REPORT) this.ctx.events.emit('reportRejected', { reason: errorCode(err), results: 0 });
      throw err;
    }
  }

  /** Close once idle: used by shutdown. */
  closeWhenIdle(): void {
    this.closing = true;
    // Said, not just done: a client that sees a bare close cannot tell shutdown from refusal.
    if (!this.busy)
      endGracefully(this.socket, encodeMessage({ type: 'ERROR', code: ErrorCodes.shuttingDown, message: 'the server is shutting down' }));
  }

  private send(message: Message): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(message));
  }

  private fail(err: unknown): void {
    const code = errorCode(err);
    this.upload?.end(code);
    if (code === ErrorCodes.closed || this.socket.destroyed) {
      this.log.debug({ code }, 'connection ended');
      return;
    }
    const known = err instanceof NetprobeError;
    this.ctx.metrics.errors.set(code, (this.ctx.metrics.errors.get(code) ?? 0) + 1);
    this.log.warn({ code, err: known ? undefined : err }, known ? errorMessage(err) : 'internal error');
    this.send({
      type: 'ERROR',
      code: known ? code : ErrorCodes.internal,
      message: known ? errorMessage(err).slice(0, 1024) : 'internal error',
    });
    endGracefully(this.socket);
  }

  private async handle(message: Message): Promise<void> {
    if (!this.greeted) {
      if (message.type !== 'HELLO') throw new ProtocolError(ErrorCodes.unexpectedMessage, `expected HELLO, got ${message.type}`);
      return this.hello(message);
    }
    switch (message.type) {
      case 'PING':
        this.send({ type: 'PONG', seq: message.seq, serverTimeMs: this.ctx.now() });
        // The next PING's ACK leaves at once, not with its PONG: the client's kernel times the round trip.
        if (this.capabilities.has('kernel-rtt')) quickAck(this.socket);
        return;
      case 'GET_FILE':
        return this.getFile(message);
      case 'REPORT':
        return this.report(message);
      case 'PUT':
        return this.put(message);
      case 'HELLO':
      case 'WELCOME':
      case 'PONG':
      case 'FILE_META':
      case 'DATA':
      case 'DATA_END':
      case 'ACK':
      case 'BUSY':
      case 'ERROR':
      case 'PUT_READY':
      case 'PUT_RESULT':
      case 'TCP_INFO':
        throw new ProtocolError(ErrorCodes.unexpectedMessage, `a client may not send ${message.type} here`);
      default: {
        const never: never = message;
        throw new ProtocolError(ErrorCodes.unexpectedMessage, `unknown message ${String(never)}`);
      }
    }
  }

  private hello(message: MessageOf<'HELLO'>): void {
    if (message.version !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        ErrorCodes.protocolVersion,
        `this server speaks netprobe protocol version ${PROTOCOL_VERSION}; the client sent version ${message.version}`,
      );
    }
    this.greeted = true;
    this.capabilities = new Set(message.capabilities.filter((c) => SERVER_CAPABILITIES.includes(c)));
    const { config } = this.ctx;
    this.send({
      type: 'WELCOME',
      version: PROTOCOL_VERSION,
      serverId: this.ctx.serverId,
      serverTimeMs: this.ctx.now(),
      capabilities: SERVER_CAPABILITIES,
      maxFrameBytes: config.maxFrameBytes,
      maxResultsPerReport: config.maxResultsPerReport,
      files: this.ctx.catalogue.names(),
    });
    // The first PING's ACK too (a new connection is in quickack mode anyway; the handshake may have left it).
    if (this.capabilities.has('kernel-rtt')) {
      quickAck(this.socket);
      // Each later PING acknowledged as it arrives too, however busy this process (PING_MIN_RTO_US).
      if (this.capabilities.has('ping-only')) setMinRto(this.socket, PING_MIN_RTO_US);
    }
  }

  /** A connection declared 'ping-only' carries no transfer (its short minimum RTO is for PINGs). */
  private refuseOnPingOnly(type: 'GET_FILE' | 'PUT'): void {
    if (this.capabilities.has('ping-only'))
      throw new ProtocolError(ErrorCodes.unexpectedMessage, `${type} on a connection the client declared 'ping-only'`);
  }

  private async getFile(message: MessageOf<'GET_FILE'>): Promise<void> {
    const { load, config } = this.ctx;
    this.refuseOnPingOnly(message.type);
    if (this.ctx.shuttingDown) throw new NetprobeError(ErrorCodes.shuttingDown, 'the server is shutting down');
    if (load.active >= config.maxConcurrentTransfers)
      return this.busyAnswer(`${load.active} transfers running (limit ${config.maxConcurrentTransfers})`);
    const file = this.ctx.catalogue.get(message.name);
    const mode = message.durationMs === undefined ? 'file' : 'duration';
    const { handle, concurrentAtStart } = load.start(this.client);
    const startedAtMs = this.ctx.now();
    const t0 = performance.now();
    const active: ActiveTransfer = { client: this.client, file: file.name, mode, startedAtMs, bytes: 0 };
    let outcome = 'ok';
    const tcp = this.capabilities.has('tcp-info') ? new TcpSampler(this.socket) : undefined;
    const hooks = {
      onBytes: (n: number) => {
        active.bytes += n;
        load.addBytes(n);
        tcp?.sample();
      },
      shaper: this.ctx.shaperFor?.(this.client),
      openConnections: () => this.ctx.metrics.openConnections,
    };
    this.ctx.events.emit('transferStart', active);
    try {
      if (message.durationMs === undefined) await sendFile(this.socket, file, hooks);
      else {
        if (this.capabilities.has('self-ping')) {
          this.downloadPings = new SelfPings(t0, () => performance.now());
          this.socket.resume();
        }
        await sendForDuration(this.socket, file, message.durationMs, hooks);
      }
      if (tcp !== undefined) this.send({ type: 'TCP_INFO', ...tcp.finish() });
    } catch (err) {
      outcome = errorCode(err);
      throw err;
    } finally {
      if (this.downloadPings !== undefined) {
        // Reading stops again until this request is done: the next request waits its turn.
        this.downloadPings = undefined;
        this.socket.pause();
      }
      load.finish(handle);
      const durationMs = performance.now() - t0;
      const { bytes } = active;
      const record: TransferRecord = {
        client: this.client,
        file: file.name,
        mode,
        bytes,
        startedAtMs,
        durationMs,
        concurrentAtStart,
        outcome,
      };
      this.ctx.committer.recordTransfer(record);
      this.ctx.events.emit('transferEnd', active, record);
      if (this.parentLog.isLevelEnabled('debug'))
        this.log.debug(
          { file: file.name, mode, bytes, durationMs: Math.round(durationMs * 10) / 10, concurrentAtStart, outcome },
          'transfer',
        );
    }
  }

  /** BUSY with a jittered retry-after (×0.5–1.5), so refused clients do not return together. */
  private busyAnswer(reason: string): void {
    const retryAfterMs = Math.round(this.ctx.config.busyRetryAfterMs * (0.5 + Math.random()));
    this.ctx.metrics.busy++;
    this.log.info({ active: this.ctx.load.active, uploads: this.ctx.load.activeUploads, retryAfterMs }, 'busy: transfer refused');
    this.send({ type: 'BUSY', retryAfterMs, reason });
  }

  /**
   * PUT: admitted like a GET_FILE (same transfer slots and BUSY rule) but only into the upload
   * share of them, so uploaders cannot take every slot from downloaders. DATA frames then go to
   * uploadFrame until DATA_END; a time limit cuts an upload that does not end.
   */
  private put(message: MessageOf<'PUT'>): void {
    const { load, config } = this.ctx;
    this.refuseOnPingOnly(message.type);
    if (!this.capabilities.has('upload')) {
      throw new ProtocolError(ErrorCodes.unexpectedMessage, "PUT needs the 'upload' capability in HELLO");
    }
    if (this.ctx.shuttingDown) throw new NetprobeError(ErrorCodes.shuttingDown, 'the server is shutting down');
    const file = this.ctx.catalogue.get(message.name);
    const sizeBytes = message.durationMs === undefined ? file.sizeBytes : 0;
    const refusal = refusePut(message, sizeBytes, config);
    if (refusal) throw refusal;
    if (load.active >= config.maxConcurrentTransfers)
      return this.busyAnswer(`${load.active} transfers running (limit ${config.maxConcurrentTransfers})`);
    const uploads = uploadLimit(config);
    if (load.activeUploads >= uploads) return this.busyAnswer(`${load.activeUploads} uploads running (limit ${uploads})`);

    const receiver = new UploadReceiver(message, sizeBytes, config);
    const mode = message.durationMs === undefined ? 'file' : 'duration';
    const { handle, concurrentAtStart } = load.start(this.client, true);
    const startedAtMs = this.ctx.now();
    const t0 = performance.now();
    const active: ActiveTransfer = { client: this.client, file: message.name, mode, startedAtMs, bytes: 0 };
    const timer = setTimeout(() => {
      this.fail(
        new NetprobeError(
          ErrorCodes.timeout,
          `upload did not end within ${receiver.maxDurationMs} ms (${receiver.bytes} bytes received); nothing is kept`,
        ),
      );
    }, receiver.maxDurationMs);
    this.upload = {
      receiver,
      selfPings: this.capabilities.has('self-ping') ? new SelfPings(t0, () => performance.now()) : undefined,
      end: (outcome) => {
        if (this.upload?.receiver !== receiver) return;
        this.upload = undefined;
        this.decoder.streamPayloads(undefined);
        clearTimeout(timer);
        load.finish(handle);
        const durationMs = performance.now() - t0;
        active.bytes = receiver.bytes;
        const record: TransferRecord = {
          client: this.client,
          file: message.name,
          mode,
          bytes: receiver.bytes,
          startedAtMs,
          durationMs,
          concurrentAtStart,
          outcome,
        };
        this.ctx.committer.recordTransfer(record);
        this.ctx.events.emit('transferEnd', active, record);
        if (this.parentLog.isLevelEnabled('debug'))
          this.log.debug(
            { direction: 'upload', mode, bytes: receiver.bytes, durationMs: Math.round(durationMs * 10) / 10, concurrentAtStart, outcome },
            'transfer',
          );
      },
    };
    this.ctx.events.emit('transferStart', active);
    this.decoder.streamPayloads(FrameType.DATA);
    this.send({
      type: 'PUT_READY',
      sizeBytes: mode === 'file' ? sizeBytes : 0,
      maxBytes: receiver.maxBytes,
      maxDurationMs: receiver.maxDurationMs,
    });
  }

  /** A frame while an upload runs: DATA (counted, dropped) until DATA_END, which is answered with PUT_RESULT. */
  private uploadFrame(upload: RunningUpload, message: Message, atMs: number): void {
    switch (message.type) {
      case 'DATA':
        upload.receiver.onData(message.payload, atMs);
        return;
      case 'PING':
        if (upload.selfPings === undefined) break;
        this.send(upload.selfPings.pong(message, this.ctx.now()));
        return;
      case 'DATA_END': {
        const result = upload.receiver.finish(message.bytes, this.capabilities.has('streams'), this.capabilities.has('upload-marks'));
        upload.end('ok');
        this.send({ type: 'PUT_RESULT', ...result });
        return;
      }
    }
    throw new ProtocolError(ErrorCodes.unexpectedMessage, `a client may not send ${message.type} during an upload`);
  }

  private async report(message: MessageOf<'REPORT'>): Promise<void> {
    const { config, events } = this.ctx;
    const results = message.results.length;
    let rows;
    try {
      if (results > config.maxResultsPerReport) {
        throw new NetprobeError(ErrorCodes.limit, `a REPORT may carry at most ${config.maxResultsPerReport} results`);
      }
      rows = prepareResults(this.client, message.results, this.ctx.load, this.ctx.now(), this.ctx.delegation);
    } catch (err) {
      events.emit('reportRejected', { reason: errorCode(err), results });
      throw err;
    }
    if (!(await this.withinBudget({ results }))) return;
    let outcome;
    try {
      outcome = await this.ctx.committer.submit(rows);
    } catch (err) {
      this.ctx.metrics.storageErrors++;
      events.emit('reportRejected', { reason: ErrorCodes.storage, results });
      this.log.error({ code: errorCode(err), results: rows.length, err: errorMessage(err) }, 'report not stored');
      return this.send({
        type: 'ERROR',
        code: ErrorCodes.storage,
        message: 'the server could not store the results; keep them and retry later',
      });
    }
    this.ctx.metrics.resultsStored += outcome.inserted;
    this.ctx.metrics.resultsDuplicate += outcome.duplicates;
    events.emit('report', { results, stored: outcome.inserted, duplicates: outcome.duplicates });
    this.ctx.emitResults(rows);
    if (this.parentLog.isLevelEnabled('debug'))
      this.log.debug({ results: rows.length, stored: outcome.inserted, duplicates: outcome.duplicates }, 'report');
    this.send({ type: 'ACK', ids: rows.map((r) => r.id), duplicates: outcome.duplicates });
  }
}
