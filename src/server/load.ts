/**
 * What the server knows about its own load: transfers running now, bytes sent per second over the
 * last hour, and each client's recent transfers, so stored results can be annotated with the
 * server's concurrency and outbound rate at the time (server contention vs path congestion).
 */

const HISTORY_SECONDS = 3_600;
const RECENT_PER_CLIENT = 32;
/** A result is matched to a server-side transfer that started within this of its start. */
const MATCH_WINDOW_MS = 120_000;

interface RecentTransfer {
  upload: boolean;
  startedAtMs: number;
  endedAtMs: number | null;
  concurrentAtStart: number;
}

export interface LoadAnnotation {
  serverConcurrentTransfers: number | null;
  serverOutboundMbps: number | null;
}

export class LoadTracker {
  active = 0;
  /** Of `active`, the uploads. */
  activeUploads = 0;
  totalTransfers = 0;
  totalBytes = 0;
  private readonly secondStamp = new Float64Array(HISTORY_SECONDS).fill(-1);
  private readonly secondBytes = new Float64Array(HISTORY_SECONDS);
  private readonly recent = new Map<string, RecentTransfer[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Marks a transfer as started; returns its handle and the concurrency it met. */
  start(client: string, upload = false): { handle: RecentTransfer; concurrentAtStart: number } {
    const handle: RecentTransfer = { upload, startedAtMs: this.now(), endedAtMs: null, concurrentAtStart: this.active };
    this.active++;
    if (upload) this.activeUploads++;
    this.totalTransfers++;
    let list = this.recent.get(client);
    if (!list) this.recent.set(client, (list = []));
    list.push(handle);
    if (list.length > RECENT_PER_CLIENT) list.shift();
    return { handle, concurrentAtStart: handle.concurrentAtStart };
  }

  finish(handle: RecentTransfer): void {
    handle.endedAtMs = this.now();
    this.active--;
    if (handle.upload) this.activeUploads--;
  }

  addBytes(bytes: number): void {
    this.totalBytes += bytes;
    const second = Math.floor(this.now() / 1000);
    const slot = second % HISTORY_SECONDS;
    if (this.secondStamp[slot] !== second) {
      this.secondStamp[slot] = second;
      this.secondBytes[slot] = 0;
    }
    this.secondBytes[slot]! += bytes;
  }

  /** Mean outbound rate in Mbit/s over whole seconds covering [fromMs, toMs]. */
  outboundMbps(fromMs: number, toMs: number): number | null {
    const first = Math.floor(fromMs / 1000);
    const last = Math.floor(toMs / 1000);
    const nowSecond = Math.floor(this.now() / 1000);
    if (last < first || nowSecond - first >= HISTORY_SECONDS) return null;
    let bytes = 0;
    for (let s = first; s <= last; s++) {
      const slot = s % HISTORY_SECONDS;
      if (this.secondStamp[slot] === s) bytes += this.secondBytes[slot]!;
    }
    return (bytes * 8) / ((last - first + 1) * 1e6);
  }

  /** The server's load when `client` ran the transfer that started near `startedAtMs`. */
  annotate(client: string, startedAtMs: number): LoadAnnotation {
    let best: RecentTransfer | undefined;
    for (const t of this.recent.get(client) ?? []) {
      const distance = Math.abs(t.startedAtMs - startedAtMs);
      if (distance <= MATCH_WINDOW_MS && (!best || distance < Math.abs(best.startedAtMs - startedAtMs))) best = t;
    }
    if (!best) return { serverConcurrentTransfers: null, serverOutboundMbps: null };
    const end = best.endedAtMs ?? this.now();
    return { serverConcurrentTransfers: best.concurrentAtStart, serverOutboundMbps: this.outboundMbps(best.startedAtMs, end) };
  }
}
