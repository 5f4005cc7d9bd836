/**
 * The primary's handle on one worker of a multi-process server (a forked process, or the primary's
 * own: local-worker.ts): send it a message, or send one and wait for its matching reply (start-up
 * verdict, revocation reload) with a timeout.
 */
import type { Worker } from 'node:cluster';
import type { Server } from 'node:net';
import { NetprobeError } from '../errors.js';
import { type Batcher, type ToPrimary, type ToWorker, batcher } from './ipc.js';

/** What a reply settles a request with; `undefined` from a matcher: not this request's reply. */
export type Settled<T> = { value: T } | { error: Error };

/** What the primary needs of a worker, whichever kind it is. */
export interface WorkerLink {
  /** Its process id (the primary's own for the primary's worker). */
  readonly pid: number | undefined;
  /** A process of its own (not the primary's worker). */
  readonly forked: boolean;
  /** It can still receive. */
  isConnected(): boolean;
  /** Sends `message` at once; `socket`: the listening socket, passed as the message's handle. */
  send(message: ToWorker, socket?: Server): void;
  /** Adds a listener; returns its removal. */
  onMessage(listener: (message: ToPrimary) => void): () => void;
  onExit(listener: (code: number | null, signal: string | null) => void): () => void;
  /** Ends it now (a process: SIGKILL). */
  kill(): void;
}

/** A worker forked by node:cluster. */
export function forkedLink(worker: Worker): WorkerLink {
  return {
    pid: worker.process.pid,
    forked: true,
    isConnected: () => worker.isConnected(),
    send: (message, socket) => void worker.send(message, socket),
    onMessage: (listener) => {
      worker.on('message', listener);
      return () => worker.off('message', listener);
    },
    onExit: (listener) => {
      worker.on('exit', listener);
      return () => worker.off('exit', listener);
    },
    kill: () => void worker.process.kill('SIGKILL'),
  };
}

export class WorkerHandle {
  /** Resolves when the worker has exited. */
  readonly exited: Promise<void>;
  private readonly out: Batcher<ToWorker>;

  constructor(
    /** The worker's slot (a replacement takes the slot of the worker it replaces). */
    readonly index: number,
    readonly worker: WorkerLink,
  ) {
    this.exited = new Promise((resolve) => {
      const off = worker.onExit(() => {
        off();
        resolve();
      });
    });
    this.out = batcher<ToWorker>((message) => {
      if (this.worker.isConnected()) this.worker.send(message);
    });
  }

  /** Sends `message` (batched with the others of this event-loop turn) when the worker can still receive it (a dying worker's messages are dropped). */
  send(message: ToWorker): void {
    this.out.send(message);
  }

  /**
   * Sends `message` (none: only waits) and resolves or rejects with the first reply `match` settles.
   * Rejects when the worker exits first or no reply comes within `timeoutMs`; `waitingTo` names the
   * wait in those errors ("start", "reload").
   */
  request<T>(
    message: ToWorker | undefined,
    match: (reply: ToPrimary) => Settled<T> | undefined,
    timeoutMs: number,
    waitingTo: string,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (text: string) => done({ error: new NetprobeError('NETPROBE_INTERNAL', `server worker ${this.index} ${text}`) });
      const timer = setTimeout(() => fail(`did not ${waitingTo} within ${timeoutMs / 1000} s`), timeoutMs);
      const offMessage = this.worker.onMessage((reply) => {
        const settled = match(reply);
        if (settled !== undefined) done(settled);
      });
      const offExit = this.worker.onExit((code) => fail(`exited (${code}) while waiting to ${waitingTo}`));
      const done = (settled: Settled<T>) => {
        clearTimeout(timer);
        offMessage();
        offExit();
        if ('value' in settled) resolve(settled.value);
        else reject(settled.error);
      };
      if (message !== undefined) this.send(message);
    });
  }
}
