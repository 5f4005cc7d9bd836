/**
 * Sends the outbox to the first server that answers, in REPORT batches, deleting each batch only
 * after its ACK. A failed flush (no server, NETPROBE_STORAGE, a timeout) is retried after an
 * exponential back-off with jitter; results stay in the outbox meanwhile.
 */
import { ErrorCodes, ProtocolError, RemoteError, errorCode, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { Result } from '../protocol/result.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import type { ServerPool } from './pool.js';
import type { Session } from './session.js';
import { type Timers, systemTimers } from './timers.js';

export const DEFAULT_BATCH_SIZE = 500;
export const DEFAULT_REPORT_BACKOFF_BASE_MS = 1_000;
export const DEFAULT_REPORT_BACKOFF_MAX_MS = 300_000;

/**
 * What the reporter needs of the results it sends: the client's Outbox (durable, SQLite), or the
 * simulator's in-memory queue of results it computed (sim/lanes.ts).
 */
export interface ReportQueue {
  count(): number;
  /** The oldest `limit` results, oldest first. */
  peek(limit: number): Result[];
  /** Drops acknowledged results; returns how many were present. */
  delete(ids: readonly string[]): number;
}

export interface ReporterOptions {
  outbox: ReportQueue;
  pool: ServerPool;
  /** Connects to a server and completes HELLO/WELCOME. */
  open: (endpoint: Endpoint) => Promise<Session>;
  batchSize?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  timers?: Timers;
  random?: () => number;
  logger?: Logger;
}

export interface FlushOutcome {
  sent: number;
  duplicates: number;
  remaining: number;
  /** Server that took the results. */
  server: string | null;
  error: { code: string; message: string } | null;
}

export class Reporter {
  private readonly timers: Timers;
  private readonly random: () => number;
  private readonly log: Logger;
  private failures = 0;
  private retryTimer: unknown;
  private running: Promise<FlushOutcome> | undefined;
  private again = false;
  private stopped = false;
  /** Wall time (timers.now) of the next automatic attempt while backing off. */
  retryAtMs: number | null = null;

  constructor(private readonly options: ReporterOptions) {
    this.timers = options.timers ?? systemTimers;
    this.random = options.random ?? Math.random;
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Send soon: now, unless a back-off is running (then at its end). `session`: an open one to send
   * on first (the measurement's own); it is closed once used, or at once when not.
   */
  kick(session?: Session): void {
    if (this.stopped || this.retryAtMs !== null) return void session?.close();
    void this.flush(session);
  }

  /**
   * One attempt to empty the outbox, ignoring any back-off. Concurrent calls share one pass.
   * `session`: as for `kick`.
   */
  flush(session?: Session): Promise<FlushOutcome> {
    if (this.running) {
      session?.close();
      this.again = true;
      return this.running;
    }
    this.cancelRetry();
    this.running = this.pass(session).finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped && this.retryAtMs === null) {
        this.again = false;
        void this.flush();
      }
    });
    return this.running;
  }

  /** Cancels automatic retries and waits for a flush in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry();
    await this.running?.catch(() => undefined);
  }

  /** Back-off after `failures` consecutive failed flushes: base·2^(n-1), capped, times 0.5-1 (jitter). */
  backoffMs(failures: number): number {
    const base = this.options.backoffBaseMs ?? DEFAULT_REPORT_BACKOFF_BASE_MS;
    const max = this.options.backoffMaxMs ?? DEFAULT_REPORT_BACKOFF_MAX_MS;
    return Math.min(max, base * 2 ** Math.min(failures - 1, 30)) * (0.5 + 0.5 * this.random());
  }

  private cancelRetry(): void {
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryAtMs = null;
  }

  private async pass(given?: Session): Promise<FlushOutcome> {
    const { outbox, pool } = this.options;
    const outcome: FlushOutcome = { sent: 0, duplicates: 0, remaining: outbox.count(), server: null, error: null };
    if (outcome.remaining === 0) {
      given?.close();
      return outcome;
    }
    let lastError: unknown;
    if (given !== undefined) {
      outcome.server = given.where;
      try {
        await this.sendAll(given, outcome);
      } catch (err) {
        lastError = err;
      } finally {
        given.close();
      }
    }
    // Without a session, or when the one given failed other than by the server's answer (it closed
    // the connection meanwhile, say): a connection of its own. A BUSY or a storage error stands.
    const retry = given === undefined || (lastError !== undefined && !(lastError instanceof RemoteError));
    for (const endpoint of retry ? pool.candidates() : []) {
      let session: Session;
      try {
        session = await this.options.open(endpoint);
      } catch (err) {
        lastError = err;
        const retryInMs = pool.markDown(endpoint);
        this.log.warn(
          { server: formatEndpoint(endpoint), code: errorCode(err), err: errorMessage(err), retryInMs: Math.round(retryInMs) },
          'server not answering: trying the next one',
        );
        continue;
      }
      pool.markUp(endpoint);
      outcome.server = session.where;
      try {
        await this.sendAll(session, outcome);
        lastError = undefined;
      } catch (err) {
        lastError = err;
      } finally {
        session.close();
      }
      break;
    }
    outcome.remaining = outbox.count();
    if (lastError === undefined) {
      this.failures = 0;
      if (outcome.sent > 0)
        this.log.info(
          { server: outcome.server, sent: outcome.sent, duplicates: outcome.duplicates, remaining: outcome.remaining },
          'results reported',
        );
      return outcome;
    }
    outcome.error = { code: errorCode(lastError), message: errorMessage(lastError) };
    this.failures++;
    // A server's BUSY (this client over its budget) says when to come back: never sooner.
    const retryAfterMs = lastError instanceof RemoteError ? (lastError.retryAfterMs ?? 0) : 0;
    const waitMs = Math.max(this.backoffMs(this.failures), retryAfterMs);
    const level = outcome.error.code === ErrorCodes.identity ? 'error' : 'warn';
    this.log[level](
      {
        server: outcome.server,
        code: outcome.error.code,
        err: outcome.error.message,
        sent: outcome.sent,
        remaining: outcome.remaining,
        failures: this.failures,
        retryInMs: Math.round(waitMs),
      },
      'reporting failed: results kept in the outbox',
    );
    if (!this.stopped) {
      this.retryAtMs = this.timers.now() + waitMs;
      this.retryTimer = this.timers.setTimeout(() => {
        this.retryTimer = undefined;
        this.retryAtMs = null;
        void this.flush();
      }, waitMs);
    }
    return outcome;
  }

  private async sendAll(session: Session, outcome: FlushOutcome): Promise<void> {
    const { outbox } = this.options;
    let batchSize = Math.min(this.options.batchSize ?? DEFAULT_BATCH_SIZE, session.welcome?.maxResultsPerReport ?? DEFAULT_BATCH_SIZE);
    for (;;) {
      const batch: Result[] = outbox.peek(batchSize);
      if (batch.length === 0) return;
      let ack: { ids: string[]; duplicates: number };
      try {
        ack = await session.report(batch);
      } catch (err) {
        if (errorCode(err) === ErrorCodes.frameTooLarge && batchSize > 1) {
          batchSize = Math.ceil(batchSize / 2);
          continue;
        }
        throw err;
      }
      const sentIds = new Set(batch.map((r) => r.id));
      const deleted = outbox.delete(ack.ids.filter((id) => sentIds.has(id)));
      if (deleted === 0)
        throw new ProtocolError(ErrorCodes.protocol, `${session.where} acknowledged none of the ${batch.length} results sent`);
      outcome.sent += deleted;
      outcome.duplicates += ack.duplicates;
    }
  }
}
