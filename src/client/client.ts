/**
 * The client: measurements on a schedule (one at a time), each stored in the outbox and then
 * reported; failover between servers; a clean stop that finishes the measurement in progress
 * and tries one last report.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { errorCode, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { DIRECTIONS, type Direction, type Result, directionOf } from '../protocol/result.js';
import type { TlsMaterial, TlsMinVersion } from '../tls/options.js';
import { DEFAULT_FULL_HANDSHAKE_EVERY, type Lookup, TlsSessions } from './connect.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { Outbox, OutboxFullError } from './outbox.js';
import { ServerPool } from './pool.js';
import { type ProbeConfig, UnknownFileError, UnsupportedError, probe } from './probe.js';
import { type FlushOutcome, Reporter } from './reporter.js';
import { type ScheduleSpec, Scheduler, type SchedulerStats, createPlan } from './schedule.js';
import { type Session, openSession } from './session.js';
import { type Timers, systemTimers } from './timers.js';

export interface ClientOptions {
  /** In preference order. */
  servers: Endpoint[];
  tls: TlsMaterial;
  minVersion?: TlsMinVersion | undefined;
  file: string;
  durationMs?: number | undefined;
  /** Default 'download'; 'both' makes one result per direction, download first. */
  direction?: Direction | 'both' | undefined;
  schedule: ScheduleSpec;
  count?: number | undefined;
  outboxPath: string;
  outboxCapacity?: number | undefined;
  batchSize?: number | undefined;
  /** First wait before retrying a server that did not answer. */
  serverRetryBaseMs?: number | undefined;
  reportBackoffBaseMs?: number | undefined;
  reportBackoffMaxMs?: number | undefined;
  probe?: Pick<ProbeConfig, 'idlePings' | 'loadedPingIntervalMs' | 'streams' | 'timeouts' | 'maxBusyRetries' | 'maxBusyWaitMs' | 'verify'>;
  /**
   * TLS sessions are kept (in memory) and resumed by every connection; the measured connection of
   * every n-th measurement makes a full handshake anyway (1: always), so `tlsMs` of a full
   * handshake stays measured. Default DEFAULT_FULL_HANDSHAKE_EVERY.
   */
  fullHandshakeEvery?: number | undefined;
}

export interface ClientDeps {
  logger?: Logger;
  timers?: Timers;
  random?: () => number;
  lookup?: Lookup;
  /** BUSY waits (tests shorten them). */
  sleep?: (ms: number) => Promise<void>;
  /** Every result, as soon as it is made (before it is stored). */
  onResult?: (result: Result) => void;
}

/** CN of a PEM certificate (the identity the server sees), or undefined. */
export function certificateCommonName(certPem: Buffer | string): string | undefined {
  const subject = new X509Certificate(certPem).subject;
  return /^CN=(.+)$/m.exec(subject)?.[1];
}

/** A digest of the client's certificate chain and trusted CAs: a stored ticket is offered only with the same ones. */
export function clientIdentity(tls: Pick<TlsMaterial, 'ca' | 'cert'>): string {
  return createHash('sha256').update(tls.cert).update('\0').update(tls.ca).digest('hex');
}

export class NetprobeClient {
  readonly outbox: Outbox;
  readonly pool: ServerPool;
  readonly reporter: Reporter;
  readonly clientName: string | undefined;
  private readonly log: Logger;
  private readonly timers: Timers;
  private readonly random: () => number;
  private scheduler: Scheduler | undefined;
  private measuring: Promise<Result[]> | undefined;
  private stopping: Promise<FlushOutcome> | undefined;
  private fatal: UnknownFileError | undefined;
  /** The servers' TLS session tickets, shared by measurements and reports, kept in the outbox between runs. */
  private readonly sessions: TlsSessions;
  /** Measurements started, over all runs of this outbox; measurement 0, n, 2n … make a full handshake. */
  private measurements: number;
  /** Which certificate and CA the stored tickets belong to (clientIdentity). */
  private readonly identity: string;

  constructor(
    private readonly options: ClientOptions,
    private readonly deps: ClientDeps = {},
  ) {
    this.log = (deps.logger ?? silentLogger).child({ component: 'client' });
    this.timers = deps.timers ?? systemTimers;
    this.random = deps.random ?? Math.random;
    this.clientName = certificateCommonName(options.tls.cert);
    this.outbox = Outbox.open(options.outboxPath, { capacity: options.outboxCapacity, logger: this.log });
    this.identity = clientIdentity(options.tls);
    const state = this.outbox.readClientState(this.identity);
    this.sessions = new TlsSessions(state.sessions);
    this.measurements = state.measurements;
    this.pool = new ServerPool(options.servers, { random: this.random, retryBaseMs: options.serverRetryBaseMs });
    this.reporter = new Reporter({
      outbox: this.outbox,
      pool: this.pool,
      open: (endpoint) => this.openSession(endpoint),
      batchSize: options.batchSize,
      backoffBaseMs: options.reportBackoffBaseMs,
      backoffMaxMs: options.reportBackoffMaxMs,
      timers: this.timers,
      random: this.random,
      logger: this.log,
    });
  }

  private async openSession(endpoint: Endpoint): Promise<Session> {
    const timeouts = this.options.probe?.timeouts;
    const { session } = await openSession({
      endpoint,
      tls: this.options.tls,
      minVersion: this.options.minVersion,
      timeouts,
      lookup: this.deps.lookup,
      requestTimeoutMs: timeouts?.requestMs,
      sessions: this.sessions,
    });
    return session;
  }

  /**
   * One measurement with failover: servers in preference order (skipping those waiting for a
   * retry) until one answers. Returns every result made: the failed attempts, then the measurement.
   * Each is in the outbox (unless it was full) before this resolves; reporting is started.
   */
  measure(): Promise<Result[]> {
    if (this.measuring) throw new Error('measure() while a measurement is running');
    this.measuring = this.measureOnce().finally(() => {
      this.measuring = undefined;
    });
    return this.measuring;
  }

  private async measureOnce(): Promise<Result[]> {
    const results: Result[] = [];
    const asked = this.options.direction ?? 'download';
    const every = this.options.fullHandshakeEvery ?? DEFAULT_FULL_HANDSHAKE_EVERY;
    const fullHandshake = this.measurements++ % every === 0;
    /** The last measurement's session, open: the results go out on it (one connection fewer for the server). */
    let session: Session | undefined;
    try {
      for (const direction of asked === 'both' ? DIRECTIONS : [asked]) {
        const measured = await this.measureDirection(direction, fullHandshake);
        results.push(...measured.results);
        session?.close();
        session = measured.session;
      }
    } catch (err) {
      session?.close();
      throw err;
    } finally {
      this.keepState();
    }
    this.reporter.kick(session);
    return results;
  }

  /** The count and the tickets, for the next run of this outbox (a failure costs resumption only). */
  private keepState(): void {
    try {
      this.outbox.writeClientState(this.identity, { measurements: this.measurements, sessions: this.sessions.takeNew() });
    } catch (err) {
      this.log.warn({ code: errorCode(err), err: errorMessage(err) }, 'client state not kept: the next run may not resume its TLS session');
    }
  }

  /** One direction with failover; the failed attempts, then the measurement (and its session, when it succeeded). */
  private async measureDirection(direction: Direction, fullHandshake: boolean): Promise<{ results: Result[]; session?: Session }> {
    const results: Result[] = [];
    for (const endpoint of this.pool.candidates()) {
      const { result, answered, session } = await probe(
        {
          ...this.options.probe,
          endpoint,
          tls: this.options.tls,
          minVersion: this.options.minVersion,
          file: this.options.file,
          durationMs: this.options.durationMs,
          direction,
          clientName: this.clientName,
          sessions: this.sessions,
          fullHandshake,
          keepSession: true,
        },
        {
          wallNow: () => this.timers.now(),
          random: this.random,
          lookup: this.deps.lookup,
          sleep: this.deps.sleep,
          onWarning: (message, err) => this.log.warn({ server: formatEndpoint(endpoint), code: errorCode(err) }, message),
        },
      );
      results.push(result);
      this.store(result);
      if (answered) {
        this.pool.markUp(endpoint);
        return { results, ...(session === undefined ? {} : { session }) };
      }
      const retryInMs = this.pool.markDown(endpoint);
      this.log.warn(
        { server: result.server, code: result.error?.code, retryInMs: Math.round(retryInMs) },
        'server not answering: trying the next one',
      );
    }
    return { results };
  }

  private store(result: Result): void {
    this.deps.onResult?.(result);
    const summary = {
      id: result.id,
      server: result.server,
      direction: directionOf(result),
      file: result.file,
      mode: result.mode,
      bytes: result.bytes,
      connectMs: result.connectMs,
      tlsMs: result.tlsMs,
      tlsResumed: result.tlsResumed,
      idleRttMs: result.idleRttMs,
      responseMs: result.responseMs,
      downloadMs: result.downloadMs,
      throughputMbps: result.throughputMbps,
      loadedRttMs: result.loadedRttMs,
      rpm: result.rpm,
      rpmSelf: result.rpmSelf,
      clientLimited: result.clientLimited,
      busyRetries: result.busyRetries,
      code: result.error?.code,
    };
    if (result.error === null) this.log.info(summary, 'measurement');
    else this.log.warn({ ...summary, err: result.error.message }, 'measurement failed');
    try {
      this.outbox.add(result);
    } catch (err) {
      // OutboxFullError was logged loudly by the outbox; anything else is logged here.
      if (!(err instanceof OutboxFullError))
        this.log.error({ id: result.id, code: errorCode(err), err: errorMessage(err) }, 'result not stored');
    }
  }

  /** Reports what the outbox holds now (one attempt). */
  flush(): Promise<FlushOutcome> {
    return this.reporter.flush();
  }

  /** Measures on the schedule until `count` runs are done or stop() is called. */
  async run(): Promise<SchedulerStats> {
    if (this.stopping) return { runs: 0, skipped: 0 };
    const pending = this.outbox.count();
    if (pending > 0) this.log.info({ pending }, 'unsent results in the outbox: reporting them');
    this.reporter.kick();
    const { schedule } = this.options;
    this.scheduler ??= new Scheduler(createPlan(schedule, this.timers.now(), this.random), async () => void (await this.measure()), {
      timers: this.timers,
      count: this.options.count,
      onSkip: (missedAtMs, nextAtMs) =>
        this.log.warn(
          { missedAt: new Date(missedAtMs).toISOString(), nextAt: new Date(nextAtMs).toISOString() },
          'measurement skipped: the previous one was still running',
        ),
      onError: (err, run) => {
        // A setup mistake (a file the server does not have) ends the run: every later one would repeat it.
        if (err instanceof UnknownFileError || err instanceof UnsupportedError) {
          this.fatal ??= err;
          void this.scheduler?.stop();
          return;
        }
        this.log.error({ run: run.index, code: errorCode(err), err: errorMessage(err) }, 'measurement crashed');
      },
    });
    this.log.info(
      {
        servers: this.options.servers.map(formatEndpoint),
        schedule,
        count: this.options.count,
        file: this.options.file,
        durationMs: this.options.durationMs,
        outbox: this.outbox.path,
      },
      'client started',
    );
    const stats = await this.scheduler.run();
    if (this.fatal) throw this.fatal;
    return stats;
  }

  /**
   * Starts no new measurement, lets the running one finish, tries one last report, closes the
   * outbox. Idempotent; resolves with the last report's outcome.
   */
  stop(): Promise<FlushOutcome> {
    this.stopping ??= (async () => {
      const stats = await this.scheduler?.stop();
      await this.measuring?.catch(() => undefined);
      await this.reporter.stop();
      const outcome = await this.reporter.flush();
      this.outbox.close();
      this.log.info({ runs: stats?.runs, skipped: stats?.skipped, sent: outcome.sent, unsent: outcome.remaining }, 'client stopped');
      return outcome;
    })();
    return this.stopping;
  }
}
