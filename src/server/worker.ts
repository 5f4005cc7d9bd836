/**
 * One worker process of a multi-process server: serves TLS connections exactly as a single-process
 * server does, but owns no store. Results go to the primary (`submit`) and a REPORT is ACKed only
 * after the primary's commit; transfers, bytes and counters are reported so the primary's load
 * annotation, dashboard and /metrics cover every worker.
 */
import { StorageError, errorCode, errorMessage } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import type { StoredResult } from '../protocol/result.js';
import type { InsertOutcome } from '../store/types.js';
import { type Serving, loadCredentials, nameServer, serveInProcess } from './boot.js';
import type { Budget, Cost } from './budget.js';
import { buildCatalogue } from './catalogue.js';
import { type ServerConfig, serverConfigSchema } from './config.js';
import { type ActiveTransfer, type ServerContext, type ServerEvents, createContext } from './context.js';
import type { Committer } from './ingest.js';
import { ShareSlots } from './slot-shares.js';
import {
  type ForwardedEvent,
  PROGRESS_INTERVAL_MS,
  type ToPrimary,
  type ToWorker,
  WORKER_SETUP_ENV,
  type WorkerSetup,
  batcher,
} from './ipc.js';

/** Sends at once: the replies the primary waits for (start-up verdict, reload). */
function sendNow(message: ToPrimary): void {
  if (process.connected) process.send!(message);
}

/** Everything else (submits, budget asks, transfers, events, progress) goes out batched per event-loop turn. */
const outbox = batcher<ToPrimary>(sendNow);
const send = (message: ToPrimary): void => outbox.send(message);

/** Submits results to the primary; resolves with its commit's outcome. */
class RemoteCommitter implements Committer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: InsertOutcome) => void; reject: (e: unknown) => void }>();
  private idle: (() => void) | undefined;

  constructor(private readonly beforeSubmit: () => void) {}

  submit(rows: StoredResult[]): Promise<InsertOutcome> {
    if (!process.connected) return Promise.reject(new StorageError('the server primary is gone: results cannot be stored'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The primary annotates the rows with the load it knows: bring it up to date first.
      this.beforeSubmit();
      send({ t: 'submit', id, rows });
    });
  }

  /** The transfer record reaches the primary with the transferEnd message. */
  recordTransfer(): void {}

  settle(message: Extract<ToWorker, { t: 'stored' | 'notStored' }>): void {
    const p = this.pending.get(message.id);
    if (p === undefined) return;
    this.pending.delete(message.id);
    if (message.t === 'stored') p.resolve(message.outcome);
    else p.reject(new StorageError(message.message));
    if (this.pending.size === 0) this.idle?.();
  }

  /** The primary will not answer any more: fail whatever waits for it. */
  abandon(): void {
    for (const p of this.pending.values()) p.reject(new StorageError('the server primary is gone: results were not stored'));
    this.pending.clear();
    this.idle?.();
  }

  drain(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }
}

/** The primary's budget: per client across every worker. Granted when the primary is gone (nothing can be stored then anyway). */
class RemoteBudget implements Budget {
  private nextId = 1;
  private readonly pending = new Map<number, (retryAfterMs: number) => void>();

  take(client: string, cost: Cost): Promise<number> {
    if (!process.connected) return Promise.resolve(0);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      send({ t: 'budget', id, client, cost });
    });
  }

  settle(message: Extract<ToWorker, { t: 'budget' }>): void {
    this.pending.get(message.id)?.(message.retryAfterMs);
    this.pending.delete(message.id);
  }

  abandon(): void {
    for (const resolve of this.pending.values()) resolve(0);
    this.pending.clear();
  }
}

/** Forwards transfers, payload bytes and counters to the primary. */
function forwardActivity(ctx: ServerContext): { flush(): void; stop(): void } {
  const ids = new Map<ActiveTransfer, { id: number; sent: number }>();
  let nextId = 1;
  ctx.events.on('transferStart', (transfer) => {
    const id = nextId++;
    ids.set(transfer, { id, sent: 0 });
    send({ t: 'transferStart', id, transfer: { ...transfer, bytes: 0 } });
  });
  ctx.events.on('transferEnd', (transfer, record) => {
    const entry = ids.get(transfer);
    if (entry === undefined) return;
    ids.delete(transfer);
    send({ t: 'transferEnd', id: entry.id, bytes: transfer.bytes - entry.sent, record });
  });
  const forward = (name: ForwardedEvent) => (payload: ServerEvents[ForwardedEvent][0]) => send({ t: 'event', name, payload });
  ctx.events.on('handshakeFailed', forward('handshakeFailed'));
  ctx.events.on('connectionRefused', forward('connectionRefused'));
  ctx.events.on('reportRejected', forward('reportRejected'));
  const flush = () => {
    const bytes: [number, number][] = [];
    for (const [transfer, entry] of ids) {
      if (transfer.bytes === entry.sent) continue;
      bytes.push([entry.id, transfer.bytes - entry.sent]);
      entry.sent = transfer.bytes;
    }
    const m = ctx.metrics;
    send({
      t: 'progress',
      bytes,
      metrics: {
        sockets: m.sockets,
        connections: m.connections,
        openConnections: m.openConnections,
        resumedConnections: m.resumedConnections,
        handshakeFailures: m.handshakeFailures,
        busy: m.busy,
        errors: [...m.errors],
      },
    });
  };
  const timer = setInterval(flush, PROGRESS_INTERVAL_MS);
  timer.unref();
  return { flush, stop: () => clearInterval(timer) };
}

export async function runWorker(): Promise<void> {
  const setup = JSON.parse(process.env[WORKER_SETUP_ENV] ?? 'null') as WorkerSetup | null;
  if (setup === null || !process.connected)
    throw new Error(`a server worker is started by its primary (${WORKER_SETUP_ENV} and an IPC channel)`);
  const config: ServerConfig = serverConfigSchema.parse(setup.config);
  const logger: Logger = createLogger({ level: config.logLevel, file: config.logFile }).child({ worker: setup.index });
  const log = logger.child({ component: 'server' });
  // The primary decides when to stop; a signal to the whole process group must not cut a worker short.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

  let activity: { flush(): void; stop(): void } | undefined;
  const committer = new RemoteCommitter(() => activity?.flush());
  const budget = new RemoteBudget();
  // The client's connection limit: within this worker's allotment without a message (slot-shares.ts).
  const slots = new ShareSlots(send);
  let serving: Serving | undefined;
  let ctx: ServerContext | undefined;

  const shutdown = async (deadlineMs: number) => {
    if (ctx === undefined || ctx.shuttingDown) return;
    ctx.shuttingDown = true;
    await serving?.stop(deadlineMs);
    await committer.drain();
    activity?.flush();
    activity?.stop();
    outbox.flush();
    logger.flush(() => process.exit(0));
  };

  const onMessage = (message: ToWorker): void => {
    switch (message.t) {
      case 'batch':
        for (const m of message.messages) onMessage(m);
        return;
      case 'stored':
      case 'notStored':
        return committer.settle(message);
      case 'budget':
        return budget.settle(message);
      case 'slotShare':
      case 'slotGrant':
      case 'slotRecall':
        return slots.receive(message);
      case 'reload':
        if (serving === undefined) return;
        serving.reloadRevocations(message.generation).then(
          (summary) => sendNow({ t: 'reloaded', req: message.req, summary }),
          (err: unknown) => sendNow({ t: 'reloadFailed', req: message.req, code: errorCode(err), message: errorMessage(err) }),
        );
        return;
      case 'shutdown':
        void shutdown(message.deadlineMs);
        return;
    }
  };
  process.on('message', onMessage);
  // The primary died: nothing can be stored any more, and clients retry elsewhere or later.
  process.on('disconnect', () => {
    committer.abandon();
    budget.abandon();
    slots.abandon();
    log.error({}, 'the server primary is gone: worker exiting');
    logger.flush(() => process.exit(1));
  });

  try {
    // The primary warned about uncovered names already.
    const credentials = await loadCredentials(config);
    const catalogue = await buildCatalogue(config.builtinFiles, config.files, Buffer.from(setup.seed, 'hex'), setup.digests);
    ctx = createContext(config, { catalogue, committer, budget, slots, now: Date.now });
    activity = forwardActivity(ctx);
    serving = await serveInProcess(ctx, credentials, log, {
      seed: Buffer.from(setup.ticketSeed, 'hex'),
      generation: setup.ticketGeneration,
    });
    nameServer(ctx, serving.port);
    outbox.flush();
    sendNow({ t: 'listening', port: serving.port, files: serving.files });
  } catch (err) {
    sendNow({ t: 'failed', code: errorCode(err), message: errorMessage(err) });
    logger.flush(() => process.exit(1));
  }
}
