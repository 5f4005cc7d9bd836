/**
 * Messages between the primary of a multi-process server and its workers (node:cluster IPC with
 * the 'advanced' serialization; function calls for the primary's own worker, local-worker.ts).
 * Workers serve TLS; the primary owns the store, the server-wide load and the metrics, so every
 * result is committed by one process.
 */
import type { StoredResult } from '../protocol/result.js';
import type { InsertOutcome, TransferRecord } from '../store/types.js';
import type { Cost } from './budget.js';
import type { ActiveTransfer, ServerEvents } from './context.js';
import type { RevocationSummary } from './listener.js';
import type { SlotToPrimary, SlotToWorker } from './slot-shares.js';

/** Counters and gauges a worker keeps; the primary sums them over its workers. */
export interface WorkerMetrics {
  sockets: number;
  connections: number;
  openConnections: number;
  resumedConnections: number;
  handshakeFailures: number;
  busy: number;
  errors: [code: string, count: number][];
}

/** Worker events the primary re-emits as they are (the rest it derives itself). */
export type ForwardedEvent = 'handshakeFailed' | 'connectionRefused' | 'reportRejected';

export type ToPrimary =
  /** Messages of one event-loop turn in one IPC write (see `batcher`). */
  | { t: 'batch'; messages: ToPrimary[] }
  /** A forked worker is ready for the listening socket (answered by `socket`). */
  | { t: 'needSocket' }
  | { t: 'listening'; port: number; files: string[] }
  | { t: 'failed'; code: string; message: string }
  | { t: 'submit'; id: number; rows: StoredResult[] }
  /** Take `cost` from the client's server-wide budget (answered by `budget` with the wait, 0 = granted). */
  | { t: 'budget'; id: number; client: string; cost: Cost }
  /** The per-client connection limit beyond a worker's allotment (slot-shares.ts). */
  | SlotToPrimary
  | { t: 'event'; name: ForwardedEvent; payload: ServerEvents[ForwardedEvent][0] }
  | { t: 'transferStart'; id: number; transfer: ActiveTransfer }
  /** Payload bytes sent since the previous message, per transfer id, and the worker's counters. */
  | { t: 'progress'; bytes: [id: number, bytes: number][]; metrics: WorkerMetrics }
  | { t: 'transferEnd'; id: number; bytes: number; record: TransferRecord }
  | { t: 'reloaded'; req: number; summary: RevocationSummary }
  | { t: 'reloadFailed'; req: number; code: string; message: string };

export type ToWorker =
  | { t: 'batch'; messages: ToWorker[] }
  /** Sent with the primary's listening socket as its handle: the worker accepts its own connections from it. */
  | { t: 'socket' }
  | { t: 'stored'; id: number; outcome: InsertOutcome }
  | { t: 'notStored'; id: number; code: string; message: string }
  | { t: 'budget'; id: number; retryAfterMs: number }
  | SlotToWorker
  /** `generation`: of the TLS ticket keys to derive after it (the same in every worker). */
  | { t: 'reload'; req: number; generation: number }
  | { t: 'shutdown'; deadlineMs: number };

/** How a worker is started: passed in its environment. */
export interface WorkerSetup {
  index: number;
  /** The worker's configuration: `workers` 1, no `http`, its share of the transfer limit. */
  config: unknown;
  /** Hex seed of the built-in files, the same for every worker. */
  seed: string;
  /** SHA-256 of each built-in file, computed once by the primary. */
  digests: Record<string, string>;
  /** Hex seed of the TLS ticket keys (listener.ts `deriveTicketKeys`) and their generation now. */
  ticketSeed: string;
  ticketGeneration: number;
}

export const WORKER_SETUP_ENV = 'NETPROBE_WORKER_SETUP';

/** How often a worker reports bytes sent and its counters (and so how stale the primary's view may be). */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * Batches IPC messages: those sent in one turn of the event loop go out as one `batch` message at
 * the next `setImmediate`, in order. Each IPC message costs a serialisation, a pipe write and a parse
 * on the other side, and a busy worker sends several per connection (transfer start and end, budget,
 * submit): under load one write carries many. A lone message goes out as itself.
 */
export interface Batcher<T> {
  send(message: T): void;
  /** Sends what is queued now (before exiting). */
  flush(): void;
}

export function batcher<T extends { t: string }>(write: (message: T | { t: 'batch'; messages: T[] }) => void): Batcher<T> {
  let queue: T[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  const flush = () => {
    clearImmediate(scheduled);
    scheduled = undefined;
    if (queue.length === 0) return;
    const messages = queue;
    queue = [];
    write(messages.length === 1 ? messages[0]! : { t: 'batch', messages });
  };
  return {
    send(message) {
      queue.push(message);
      scheduled ??= setImmediate(flush);
    },
    flush,
  };
}
