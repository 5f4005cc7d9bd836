/**
 * The primary's handle on one worker process of a multi-process server: send it a message, or send
 * one and wait for its matching reply (start-up verdict, revocation reload) with a timeout.
 */
import type { Worker } from 'node:cluster';
import { NetprobeError } from '../errors.js';
import { type Batcher, type ToPrimary, type ToWorker, batcher } from './ipc.js';

/** What a reply settles a request with; `undefined` from a matcher: not this request's reply. */
export type Settled<T> = { value: T } | { error: Error };

export class WorkerHandle {
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  private readonly out: Batcher<ToWorker>;

  constructor(
    /** The worker's slot (a replacement takes the slot of the worker it replaces). */
    readonly index: number,
    readonly worker: Worker,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
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
      const onMessage = (reply: ToPrimary) => {
        const settled = match(reply);
        if (settled !== undefined) done(settled);
      };
      const onExit = (code: number | null) => fail(`exited (${code}) while waiting to ${waitingTo}`);
      const done = (settled: Settled<T>) => {
        clearTimeout(timer);
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
        if ('value' in settled) resolve(settled.value);
        else reject(settled.error);
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
      if (message !== undefined) this.send(message);
    });
  }
}
