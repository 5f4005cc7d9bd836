/**
 * A small netprobe server made of the protocol codec, for client tests. Honest by default; each
 * handler can be replaced so a test gets a LYING server (wrong sha256, BUSY, ERROR STORAGE,
 * closing mid-transfer, never answering).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../../src/protocol/decoder.js';
import { FrameType, MAX_DATA_CHUNK_BYTES, PROTOCOL_VERSION, encodeHeader } from '../../../src/protocol/frame.js';
import { type Message, type MessageOf, encodeMessage, parseMessage } from '../../../src/protocol/messages.js';
import type { Result } from '../../../src/protocol/result.js';
import { type TlsMaterial, serverTlsOptions } from '../../../src/tls/options.js';
import type { Endpoint } from '../../../src/client/endpoint.js';

export interface FakeFile {
  name: string;
  data: Buffer;
  sha256: string;
}

export function fakeFile(name: string, sizeBytes: number, seed = 1): FakeFile {
  const data = Buffer.allocUnsafe(sizeBytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < sizeBytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return { name, data, sha256: createHash('sha256').update(data).digest('hex') };
}

export interface ServeOptions {
  /** Announce this hash instead of the real one. */
  sha256?: string;
  /** Destroy the connection after this many payload bytes. */
  closeAfterBytes?: number;
  /** Send this many payload bytes, then nothing (connection left open). */
  stallAfterBytes?: number;
}

export class FakeConnection {
  constructor(
    readonly socket: TLSSocket,
    private readonly server: FakeServer,
  ) {}

  get client(): string | undefined {
    const cn = this.socket.getPeerCertificate().subject?.CN;
    return typeof cn === 'string' ? cn : undefined;
  }

  send(message: Message): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(message));
  }

  /** ERROR then close, as the real server does for fatal errors. */
  fail(code: string, message: string): void {
    this.send({ type: 'ERROR', code, message });
    this.socket.end();
  }

  private async write(data: Buffer): Promise<void> {
    if (this.socket.destroyed) throw new Error('closed');
    if (!this.socket.write(data)) await once(this.socket, 'drain');
  }

  async serveFile(name: string, options: ServeOptions = {}): Promise<void> {
    const file = this.server.files.get(name);
    if (file === undefined) return this.fail('NETPROBE_NOT_FOUND', `no file ${name}`);
    await this.write(
      encodeMessage({ type: 'FILE_META', name, sizeBytes: file.data.length, sha256: options.sha256 ?? file.sha256, mode: 'file' }),
    );
    const limit = Math.min(options.closeAfterBytes ?? Infinity, options.stallAfterBytes ?? Infinity);
    for (let sent = 0; sent < file.data.length; sent += 256 * 1024) {
      const end = Math.min(sent + 256 * 1024, file.data.length, limit);
      await this.write(file.data.subarray(sent, end));
      if (end >= limit) {
        if (options.closeAfterBytes !== undefined) this.socket.destroy();
        return;
      }
    }
  }

  async serveDuration(name: string, durationMs: number): Promise<void> {
    const file = this.server.files.get(name);
    if (file === undefined) return this.fail('NETPROBE_NOT_FOUND', `no file ${name}`);
    await this.write(encodeMessage({ type: 'FILE_META', name, sizeBytes: 0, sha256: null, mode: 'duration' }));
    const deadline = performance.now() + durationMs;
    let sent = 0;
    let offset = 0;
    const chunk = Math.min(MAX_DATA_CHUNK_BYTES, file.data.length);
    while (performance.now() < deadline) {
      if (offset + chunk > file.data.length) offset = 0;
      this.socket.write(encodeHeader(FrameType.DATA, chunk));
      await this.write(file.data.subarray(offset, offset + chunk));
      offset += chunk;
      sent += chunk;
    }
    await this.write(encodeMessage({ type: 'DATA_END', bytes: sent }));
  }
}

type Handler<T extends Message['type']> = (message: MessageOf<T>, conn: FakeConnection) => void | Promise<void>;

export interface FakeServerOptions {
  tls: TlsMaterial;
  files?: FakeFile[];
  maxResultsPerReport?: number;
  maxFrameBytes?: number;
  onHello?: Handler<'HELLO'>;
  onPing?: Handler<'PING'>;
  onGetFile?: Handler<'GET_FILE'>;
  onReport?: Handler<'REPORT'>;
}

export class FakeServer {
  readonly files = new Map<string, FakeFile>();
  /** Results stored (first copy of each id), in arrival order. */
  readonly stored: Result[] = [];
  /** Every message received, in order. */
  readonly received: Message[] = [];
  readonly connections = new Set<FakeConnection>();
  private readonly server: tls.Server;
  port = 0;

  private constructor(readonly options: FakeServerOptions) {
    for (const file of options.files ?? []) this.files.set(file.name, file);
    this.server = tls.createServer(serverTlsOptions(options.tls), (socket) => void this.serve(socket));
    this.server.on('tlsClientError', () => undefined);
  }

  static async start(options: FakeServerOptions): Promise<FakeServer> {
    const server = new FakeServer(options);
    server.server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    server.port = (server.server.address() as AddressInfo).port;
    return server;
  }

  get endpoint(): Endpoint {
    return { host: '127.0.0.1', port: this.port };
  }

  count(type: Message['type']): number {
    return this.received.filter((m) => m.type === type).length;
  }

  /** The honest REPORT answer: store new ids, ACK all. */
  acknowledge(message: MessageOf<'REPORT'>, conn: FakeConnection): void {
    let duplicates = 0;
    for (const result of message.results) {
      if (this.stored.some((r) => r.id === result.id)) duplicates++;
      else this.stored.push(result);
    }
    conn.send({ type: 'ACK', ids: message.results.map((r) => r.id), duplicates });
  }

  private async serve(socket: TLSSocket): Promise<void> {
    const conn = new FakeConnection(socket, this);
    this.connections.add(conn);
    socket.on('error', () => undefined);
    socket.once('close', () => this.connections.delete(conn));
    const decoder = new FrameDecoder({ maxFrameBytes: this.options.maxFrameBytes ?? 4 * 1024 * 1024 });
    const o = this.options;
    try {
      for await (const chunk of socket) {
        for (const item of decoder.push(chunk as Buffer)) {
          if (item.kind !== 'frame') throw new Error('raw bytes from a client');
          const message = parseMessage(item);
          this.received.push(message);
          switch (message.type) {
            case 'HELLO':
              if (o.onHello) await o.onHello(message, conn);
              else conn.send(this.welcome());
              break;
            case 'PING':
              if (o.onPing) await o.onPing(message, conn);
              else conn.send({ type: 'PONG', seq: message.seq, serverTimeMs: Date.now() });
              break;
            case 'GET_FILE':
              if (o.onGetFile) await o.onGetFile(message, conn);
              else if (message.durationMs === undefined) await conn.serveFile(message.name);
              else await conn.serveDuration(message.name, message.durationMs);
              break;
            case 'REPORT':
              if (o.onReport) await o.onReport(message, conn);
              else this.acknowledge(message, conn);
              break;
            default:
              conn.fail('NETPROBE_UNEXPECTED_MESSAGE', `unexpected ${message.type}`);
          }
        }
      }
    } catch {
      socket.destroy();
    }
  }

  welcome(): Message {
    return {
      type: 'WELCOME',
      version: PROTOCOL_VERSION,
      serverId: 'fake',
      serverTimeMs: Date.now(),
      capabilities: ['duration', 'report'],
      maxFrameBytes: this.options.maxFrameBytes ?? 4 * 1024 * 1024,
      maxResultsPerReport: this.options.maxResultsPerReport ?? 1000,
      files: [...this.files.keys()],
    };
  }

  async close(): Promise<void> {
    for (const conn of this.connections) conn.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
