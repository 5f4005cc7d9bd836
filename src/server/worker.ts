/**
 * One worker of a multi-process server (a forked process, or the primary's own: local-worker.ts):
 * serves TLS connections exactly as a single-process server does, but owns no store. Results go to
 * the primary (`submit`) and a REPORT is ACKed only after the primary's commit; transfers, bytes and
 * counters are reported so the primary's load annotation, dashboard and /metrics cover every worker.
 */
import { Server } from 'node:net';
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
  type Batcher,
  type ForwardedEvent,
  PROGRESS_INTERVAL_MS,
  type ToPrimary,
  type ToWorker,
  WORKER_SETUP_ENV,
  type WorkerSetup,
  batcher,
} from './ipc.js';

/**
 * How a worker reaches its primary: a forked worker's IPC channel, or a function call for the
 * primary's own (local-worker.ts).
 */
export interface PrimaryLink {
  /** The primary can still receive. */
  connected(): boolean;
  /** Sends `message` at once. */
  send(message: ToPrimary): void;
}

/** Submits results to the primary; resolves with its commit's outcome. */
class RemoteCommitter implements Committer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (o: InsertOutcome) => void; reject: (e: unknown) => void }>();
  private idle: (() => void) | undefined;

  constructor(
    private readonly link: PrimaryLink,
    private readonly send: (message: ToPrimary) => void,
    private readonly beforeSubmit: () => void,
  ) {}

  submit(rows: StoredResult[]): Promise<InsertOutcome> {
    if (!this.link.connected()) return Promise.reject(new StorageError('the server primary is gone: results cannot be stored'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // The primary annotates the rows with the load it knows: bring it up to date first.
      this.beforeSubmit();
      this.send({ t: 'submit', id, rows });
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

  constructor(
    private readonly link: PrimaryLink,
    private readonly send: (message: ToPrimary) => void,
  ) {}

  take(client: string, cost: Cost): Promise<number> {
    if (!this.link.connected()) return Promise.resolve(0);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.send({ t: 'budget', id, client, cost });
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
function forwardActivity(ctx: ServerContext, send: (message: ToPrimary) => void): { flush(): void; stop(): void } {
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

/**
 * What a worker is once set up: it serves TLS from `start` until the primary asks it to shut down
 * (or is gone), then settles `exited` with its exit code. The same for a forked worker and the
 * primary's own.
 */
export class WorkerRuntime {
  /** Settles with the exit code once the worker is done (shut down, failed to start, or lost its primary). */
  readonly exited: Promise<number>;
  private exit!: (code: number) => void;
  /** Everything but the replies the primary waits for goes out batched per event-loop turn. */
  private readonly outbox: Batcher<ToPrimary>;
  private readonly send: (message: ToPrimary) => void;
  private readonly committer: RemoteCommitter;
  private readonly budget: RemoteBudget;
  /** The client's connection limit: within this worker's allotment without a message (slot-shares.ts). */
  private readonly slots: ShareSlots;
  private activity: { flush(): void; stop(): void } | undefined;
  private serving: Serving | undefined;
  private ctx: ServerContext | undefined;

  constructor(
    private readonly setup: WorkerSetup,
    private readonly config: ServerConfig,
    private readonly link: PrimaryLink,
    /** Its server log (component "server"). */
    private readonly log: Logger,
  ) {
    this.exited = new Promise((resolve) => (this.exit = resolve));
    this.outbox = batcher<ToPrimary>((message) => this.sendNow(message));
    this.send = (message) => this.outbox.send(message);
    this.committer = new RemoteCommitter(link, this.send, () => this.activity?.flush());
    this.budget = new RemoteBudget(link, this.send);
    this.slots = new ShareSlots(this.send);
  }

  /** Sends at once: the replies the primary waits for (start-up verdict, reload). */
  private sendNow(message: ToPrimary): void {
    if (this.link.connected()) this.link.send(message);
  }

  /** Loads what the worker serves and serves TLS (on `socket`, the primary's listening socket, when given), then tells the primary. */
  async start(socket?: Server): Promise<void> {
    const { setup, config } = this;
    try {
      // The primary warned about uncovered names already.
      const credentials = await loadCredentials(config);
      const catalogue = await buildCatalogue(config.builtinFiles, config.files, Buffer.from(setup.seed, 'hex'), setup.digests);
      const ctx = createContext(config, { catalogue, committer: this.committer, budget: this.budget, slots: this.slots, now: Date.now });
      this.ctx = ctx;
      this.activity = forwardActivity(ctx, this.send);
      this.serving = await serveInProcess(ctx, credentials, this.log, {
        tickets: { seed: Buffer.from(setup.ticketSeed, 'hex'), generation: setup.ticketGeneration },
        socket,
      });
      nameServer(ctx, this.serving.port);
      this.outbox.flush();
      this.sendNow({ t: 'listening', port: this.serving.port, files: this.serving.files });
    } catch (err) {
      this.activity?.stop();
      this.sendNow({ t: 'failed', code: errorCode(err), message: errorMessage(err) });
      this.exit(1);
    }
  }

  receive(message: ToWorker): void {
    switch (message.t) {
      case 'batch':
        for (const m of message.messages) this.receive(m);
        return;
      case 'stored':
      case 'notStored':
        return this.committer.settle(message);
      case 'budget':
        return this.budget.settle(message);
      case 'slotShare':
      case 'slotGrant':
      case 'slotRecall':
        return this.slots.receive(message);
      case 'reload': {
        const serving = this.serving;
        if (serving === undefined) return;
        serving.reloadRevocations(message.generation).then(
          (summary) => this.sendNow({ t: 'reloaded', req: message.req, summary }),
          (err: unknown) => this.sendNow({ t: 'reloadFailed', req: message.req, code: errorCode(err), message: errorMessage(err) }),
        );
        return;
      }
      case 'shutdown':
        void this.shutdown(message.deadlineMs);
        return;
      case 'socket':
        // Only with the socket handle, before start (runWorker).
        return;
    }
  }

  /** The listening socket once it listens. */
  get socket(): Server | undefined {
    return this.serving?.socket;
  }

  /** Ends the worker now: its connections are cut (the primary's own worker, when the primary gives up on it). */
  abort(): void {
    this.activity?.stop();
    void this.serving?.stop(0);
    this.exit(1);
  }

  /** The primary is gone: nothing can be stored any more, and clients retry elsewhere or later. */
  primaryGone(): void {
    this.committer.abandon();
    this.budget.abandon();
    this.slots.abandon();
    this.log.error({}, 'the server primary is gone: worker exiting');
    this.exit(1);
  }

  private async shutdown(deadlineMs: number): Promise<void> {
    const ctx = this.ctx;
    if (ctx === undefined || ctx.shuttingDown) return;
    ctx.shuttingDown = true;
    await this.serving?.stop(deadlineMs);
    await this.committer.drain();
    this.activity?.flush();
    this.activity?.stop();
    this.outbox.flush();
    this.exit(0);
  }
}

/**
 * A forked worker's process (worker-main.ts): its setup from the environment, its primary over IPC.
 * It first asks for the primary's listening socket (`needSocket`, answered by `socket` with the
 * handle), then serves on it: every serving process accepts its own connections from that socket.
 */
export async function runWorker(): Promise<void> {
  const setup = JSON.parse(process.env[WORKER_SETUP_ENV] ?? 'null') as WorkerSetup | null;
  if (setup === null || !process.connected)
    throw new Error(`a server worker is started by its primary (${WORKER_SETUP_ENV} and an IPC channel)`);
  const config: ServerConfig = serverConfigSchema.parse(setup.config);
  const logger: Logger = createLogger({ level: config.logLevel, file: config.logFile }).child({ worker: setup.index });
  // The primary decides when to stop; a signal to the whole process group must not cut a worker short.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

  const link: PrimaryLink = { connected: () => process.connected, send: (message) => process.send!(message) };
  const runtime = new WorkerRuntime(setup, config, link, logger.child({ component: 'server' }));
  void runtime.exited.then((code) => logger.flush(() => process.exit(code)));
  const socket = new Promise<Server>((resolve) =>
    process.on('message', (message: ToWorker, handle?: unknown) => {
      if (message.t === 'socket' && handle instanceof Server) resolve(handle);
      else runtime.receive(message);
    }),
  );
  process.on('disconnect', () => runtime.primaryGone());
  link.send({ t: 'needSocket' });
  await runtime.start(await socket);
}
