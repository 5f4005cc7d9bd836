import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StreamEvents } from './api-types.js';

/** A viewer that has not read this much of the stream is too slow: it is dropped (it reconnects). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Comment lines keep proxies and the browser from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** Browsers reconnect after this long when the stream breaks. */
const RETRY_MS = 3_000;

/** Server-Sent Events to every open dashboard: one write per event per viewer, no polling. */
export class EventStream {
  private readonly viewers = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly maxViewers: number) {
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.viewers.size;
  }

  /** Takes over the response; false (and nothing written) when too many viewers are connected. */
  open(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.viewers.size >= this.maxViewers) return false;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    req.socket.setNoDelay(true);
    this.viewers.add(res);
    res.once('close', () => this.viewers.delete(res));
    return true;
  }

  send<K extends keyof StreamEvents>(event: K, data: StreamEvents[K]): void {
    if (this.viewers.size > 0) this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    for (const res of this.viewers) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.viewers) res.end();
    this.viewers.clear();
  }
}
