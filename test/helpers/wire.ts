import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls, { type TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { type Message, encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import type { Result } from '../../src/protocol/result.js';
import { clientTlsOptions } from '../../src/tls/options.js';

/**
 * A bare protocol peer for server tests: sends frames, reads messages. No measurement logic,
 * so tests can also send what an honest client never would.
 */
export class WireClient {
  private readonly decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024 });
  private readonly inbox: (Message | { type: 'RAW'; data: Buffer })[] = [];
  private waiter: (() => void) | undefined;
  private rawLeft = 0;
  ended = false;
  error: Error | undefined;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const item of this.decoder.push(chunk)) {
          if (item.kind === 'raw') {
            this.inbox.push({ type: 'RAW', data: item.data });
            continue;
          }
          assert.equal(item.kind, 'frame');
          if (item.kind !== 'frame') continue;
          const message = parseMessage(item);
          if (message.type === 'FILE_META' && message.mode === 'file' && message.sizeBytes > 0) {
            this.decoder.expectRaw(message.sizeBytes);
            this.rawLeft = message.sizeBytes;
          }
          this.inbox.push(message);
        }
      } catch (err) {
        this.error = err as Error;
        socket.destroy();
      }
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (err) => {
      this.error ??= err;
    });
  }

  static async connect(port: number, paths: { ca: string; cert?: string; key?: string }, host = '127.0.0.1'): Promise<WireClient> {
    const material = {
      ca: await readFile(paths.ca),
      cert: paths.cert ? await readFile(paths.cert) : Buffer.alloc(0),
      key: paths.key ? await readFile(paths.key) : Buffer.alloc(0),
    };
    const options = clientTlsOptions(material, { host, port });
    if (!paths.cert) {
      delete options.cert;
      delete options.key;
    }
    const socket = tls.connect(options);
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    return new WireClient(socket);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(message: Message): void {
    this.socket.write(encodeMessage(message));
  }

  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next message, or undefined once the connection closed. */
  async next(): Promise<Message | undefined> {
    for (;;) {
      const item = this.inbox.shift();
      if (item && item.type !== 'RAW') return item;
      if (item) throw new Error('raw bytes where a message was expected');
      if (this.ended) return undefined;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }

  /** Resolves when the server closed the connection. */
  async closed(): Promise<void> {
    while (!this.ended) await new Promise<void>((r) => (this.waiter = r));
  }

  async hello(): Promise<Message | undefined> {
    this.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: [] });
    return this.next();
  }

  /** GET_FILE; returns FILE_META (or BUSY/ERROR) and, for a file, the sha256 of the raw bytes. */
  async download(name: string): Promise<{ reply: Message | undefined; bytes: number; sha256: string }> {
    this.send({ type: 'GET_FILE', name });
    return this.readFile(await this.next());
  }

  /** Reads the raw bytes that follow a FILE_META already taken with next(). */
  async readFile(reply: Message | undefined): Promise<{ reply: Message | undefined; bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let bytes = 0;
    if (reply?.type === 'FILE_META') {
      while (this.rawLeft > 0) {
        const item = this.inbox.shift();
        if (item?.type === 'RAW') {
          hash.update(item.data);
          bytes += item.data.length;
          this.rawLeft -= item.data.length;
        } else if (item) {
          throw new Error(`message ${item.type} inside raw bytes`);
        } else {
          if (this.ended) break;
          await new Promise<void>((r) => (this.waiter = r));
        }
      }
    }
    return { reply, bytes, sha256: hash.digest('hex') };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A valid result as a client would send it. */
export function sampleResult(overrides: Partial<Result> = {}): Result {
  return {
    id: randomUUID(),
    server: '127.0.0.1:7443',
    file: '1MiB',
    mode: 'file',
    startedAt: new Date().toISOString(),
    bytes: 1_048_576,
    dnsMs: null,
    connectMs: 0.3,
    tlsMs: 2.1,
    idleRttMs: 0.1,
    responseMs: 0.4,
    downloadMs: 5.2,
    transferMs: 4.8,
    throughputMbps: 1747.6,
    goodputMbps: 1613.2,
    loadedRttMs: 0.5,
    samplesMbps: [],
    cpuMs: 3,
    clientLimited: false,
    sha256Ok: true,
    tlsVersion: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    busyRetries: 0,
    error: null,
    ...overrides,
  };
}
