/**
 * The primary of a multi-process server (`workers` > 1: that many processes serve TLS, the primary
 * one of them). Workers accept and serve the TLS connections: the primary's own (local-worker.ts),
 * which binds the listening socket, and `workers` − 1 forked with node:cluster, which accept from
 * that same socket (passed to each as an IPC handle). Every worker hands each REPORT to the
 * primary, which alone owns the store: one group committer, one writer, so exactly-once storage
 * and the ACK-after-commit rule hold as in a single process. The primary also keeps the
 * server-wide load (transfers and bytes of every worker, used to annotate results), the counters,
 * the dashboard and /metrics. A forked worker that dies is replaced; when the primary dies its
 * workers exit, and clients keep their unacknowledged results for a retry.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { ConfigError, NetprobeError, errorCode, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type BootPlan, type Credentials, type Serving, bootServer } from './boot.js';
import { Catalogue, builtinDigests } from './catalogue.js';
import type { ServerConfig } from './config.js';
import type { ActiveTransfer, ServerContext } from './context.js';
import { WORKER_YOUNG_GENERATION_FLAG, youngGenerationSetByNode } from './engine.js';
import type { GroupCommitter } from './ingest.js';
import type { LoadTracker } from './load.js';
import { type ToPrimary, WORKER_SETUP_ENV, type WorkerMetrics, type WorkerSetup } from './ipc.js';
import type { RevocationSummary } from './listener.js';
import { loadRevocations } from './revocation.js';
import type { RunningServer, ServerDeps } from './running.js';
import { SlotLedger } from './slot-ledger.js';
import { uploadLimit } from './upload.js';
import { localWorker } from './local-worker.js';
import { WorkerHandle, type WorkerLink, forkedLink } from './worker-handle.js';

/** How long a worker may take to start (it generates the built-in files and reads `files`). */
const START_TIMEOUT_MS = 60_000;
const RELOAD_TIMEOUT_MS = 10_000;
/** After the shutdown deadline, workers get this long to finish their last commits before SIGKILL. */
const EXIT_GRACE_MS = 10_000;

interface WorkerState {
  handle: WorkerHandle;
  metrics: WorkerMetrics;
  /** Transfers running in the worker, by the worker's id, with the primary's load handle. */
  transfers: Map<number, { active: ActiveTransfer; load: ReturnType<LoadTracker['start']> }>;
}

const zeroMetrics = (): WorkerMetrics => ({
  sockets: 0,
  connections: 0,
  openConnections: 0,
  resumedConnections: 0,
  handshakeFailures: 0,
  busy: 0,
  errors: [],
});

function workerEntry(): { exec: string; execArgv: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const exec = new URL(ts ? './worker-main.ts' : './worker-main.js', import.meta.url).pathname;
  // NETPROBE_PROFILE_WORKERS=1 (bench/profile.ts --round) lets workers inherit the primary's --cpu-prof flags.
  return { exec, execArgv: workerExecArgv(process.execArgv, ts, process.env.NETPROBE_PROFILE_WORKERS === '1') };
}

/**
 * A worker's node flags from the primary's: test and inspector flags dropped, profiler flags only
 * when asked. A primary running TypeScript (`ts`) already has a loader among its flags (`--import
 * tsx`, the test runner's esbuild `--import …/ts-register.mjs`) and the workers inherit that one;
 * tsx is added only when there is none, so a worker never loads two.
 */
export function workerExecArgv(parent: readonly string[], ts: boolean, profileWorkers: boolean): string[] {
  const execArgv = parent.filter(
    (a) => !a.startsWith('--test') && (profileWorkers || !a.startsWith('--cpu-prof')) && !a.startsWith('--inspect'),
  );
  const hasLoader = execArgv.some((a) => /^--(import|loader|experimental-loader|require)\b/.test(a) || a === '-r');
  if (ts && !hasLoader) execArgv.push('--import', 'tsx');
  // A small young generation, as in every server process (engine.ts), unless the primary was given one.
  if (!youngGenerationSetByNode(execArgv)) execArgv.push(WORKER_YOUNG_GENERATION_FLAG);
  return execArgv;
}

export async function startCluster(config: ServerConfig, workerCount: number, deps: ServerDeps): Promise<RunningServer> {
  if (!cluster.isPrimary) throw new ConfigError('a server worker cannot start workers of its own');
  const seed = randomBytes(32).toString('hex');
  let digests: Record<string, string> = {};
  const plan: BootPlan = {
    catalogue: async () => {
      // Hashed here once: a worker (a replacement too) then starts without reading its files through.
      digests = builtinDigests(config.builtinFiles, Buffer.from(seed, 'hex'));
      // The primary's context serves no files: its own worker has a catalogue, as every worker.
      return new Catalogue();
    },
    serve: (ctx, credentials, log) => serveWorkers(ctx, credentials, log, { workerCount, seed, digests }),
  };
  return bootServer(config, deps, plan);
}

/** Forks the workers and waits until every one listens; they then serve TLS for `ctx`, whose store the primary keeps. */
async function serveWorkers(
  ctx: ServerContext,
  credentials: Credentials,
  log: Logger,
  { workerCount, seed, digests }: { workerCount: number; seed: string; digests: Record<string, string> },
): Promise<Serving> {
  const { config, load, metrics, events } = ctx;
  let revocations = credentials.revocations;
  // Every worker derives the same TLS ticket keys from it (listener.ts): a session resumes on any worker.
  const ticketSeed = randomBytes(32).toString('hex');
  /** The ticket keys' generation: one more per revocation reload; a replacement worker starts at the current one. */
  let ticketGeneration = 0;
  const workerConfig: ServerConfig = {
    ...config,
    // No dashboard settings to drop: they are not the server's (web/config.ts), so the token never
    // reaches a worker (the setup travels in its environment, readable in /proc/PID/environ).
    workers: 1,
    // The transfer limit is the server's: each worker admits its share.
    maxConcurrentTransfers: Math.max(1, Math.ceil(config.maxConcurrentTransfers / workerCount)),
    maxConcurrentUploads: Math.max(1, Math.ceil(uploadLimit(config) / workerCount)),
    maxConnections: Math.max(1, Math.ceil(config.maxConnections / workerCount)),
    // maxConnectionsPerClient stays the server's: each worker admits within its allotment of a
    // client's slots and the primary keeps the allotments within the limit (`slots`: slot-ledger.ts),
    // since a client's connections of one moment may all reach one worker.
  };
  const slots = new SlotLedger<WorkerState>(
    config.maxConnectionsPerClient,
    Math.floor(config.maxConnectionsPerClient / workerCount),
    (state, message) => state.handle.send(message),
  );
  const states = new Set<WorkerState>();
  /** The server's listening socket, bound by the primary's own worker; forked workers get it on asking (`needSocket`). */
  let socket: Server | undefined;
  /** Counters of workers that are gone (counters never go down). */
  const retired = zeroMetrics();
  let shuttingDown = false;
  const recomputeMetrics = () => {
    const all = [retired, ...[...states].map((s) => s.metrics)];
    metrics.sockets = all.slice(1).reduce((n, m) => n + m.sockets, 0);
    metrics.openConnections = all.slice(1).reduce((n, m) => n + m.openConnections, 0);
    metrics.connections = all.reduce((n, m) => n + m.connections, 0);
    metrics.resumedConnections = all.reduce((n, m) => n + m.resumedConnections, 0);
    metrics.handshakeFailures = all.reduce((n, m) => n + m.handshakeFailures, 0);
    metrics.busy = all.reduce((n, m) => n + m.busy, 0);
    const errors = new Map<string, number>();
    for (const m of all) for (const [code, n] of m.errors) errors.set(code, (errors.get(code) ?? 0) + n);
    metrics.errors = errors;
  };

  const endTransfer = (state: WorkerState, id: number, bytes: number, record: Parameters<GroupCommitter['recordTransfer']>[0]) => {
    const entry = state.transfers.get(id);
    if (entry === undefined) return;
    state.transfers.delete(id);
    entry.active.bytes += bytes;
    load.addBytes(bytes);
    load.finish(entry.load.handle);
    // The server-wide concurrency, not the worker's own.
    const full = { ...record, concurrentAtStart: entry.load.concurrentAtStart };
    ctx.committer.recordTransfer(full);
    events.emit('transferEnd', entry.active, full);
  };

  const onMessage = (state: WorkerState, message: ToPrimary) => {
    switch (message.t) {
      case 'batch':
        for (const m of message.messages) onMessage(state, m);
        return;
      case 'submit': {
        const rows = message.rows.map((r) => ({ ...r, ...load.annotate(r.client, Date.parse(r.startedAt)) }));
        ctx.committer.submit(rows).then(
          (outcome) => {
            metrics.resultsStored += outcome.inserted;
            metrics.resultsDuplicate += outcome.duplicates;
            events.emit('report', { results: rows.length, stored: outcome.inserted, duplicates: outcome.duplicates });
            ctx.emitResults(rows);
            state.handle.send({ t: 'stored', id: message.id, outcome });
          },
          (err: unknown) => {
            // The worker answers its client NETPROBE_STORAGE and reports the rejection.
            metrics.storageErrors++;
            state.handle.send({ t: 'notStored', id: message.id, code: errorCode(err), message: errorMessage(err) });
          },
        );
        return;
      }
      case 'budget':
        void ctx.budget
          .take(message.client, message.cost)
          .then((retryAfterMs) => state.handle.send({ t: 'budget', id: message.id, retryAfterMs }));
        return;
      case 'needSocket':
        // Always bound by then: forked workers start after the primary's own listens.
        if (socket !== undefined) state.handle.worker.send({ t: 'socket' }, socket);
        return;
      case 'slotAsk':
        slots.ask(state, message.client, message.n);
        return;
      case 'slotReturn':
        slots.returned(state, message.client, message.n, message.recalled);
        return;
      case 'event':
        events.emit(message.name, message.payload as never);
        return;
      case 'transferStart': {
        const active = { ...message.transfer };
        state.transfers.set(message.id, { active, load: load.start(message.transfer.client) });
        events.emit('transferStart', active);
        return;
      }
      case 'progress':
        for (const [id, bytes] of message.bytes) {
          const entry = state.transfers.get(id);
          if (entry !== undefined) entry.active.bytes += bytes;
          load.addBytes(bytes);
        }
        state.metrics = message.metrics;
        recomputeMetrics();
        return;
      case 'transferEnd':
        endTransfer(state, message.id, message.bytes, message.record);
        return;
      default:
        // listening, failed, reloaded, reloadFailed: awaited where they are asked for.
        return;
    }
  };

  const { exec, execArgv } = workerEntry();
  cluster.setupPrimary({ exec, execArgv, args: [], serialization: 'advanced' });
  /** Crash times of the last minute: restarts back off when workers keep dying. */
  let crashes: number[] = [];
  const setupOf = (index: number): WorkerSetup => ({ index, config: workerConfig, seed, digests, ticketSeed, ticketGeneration });

  /** Tracks a worker from its start: its messages, its share of the slots, its exit (a forked one is replaced). */
  const track = (index: number, link: WorkerLink): WorkerState => {
    const state: WorkerState = { handle: new WorkerHandle(index, link), metrics: zeroMetrics(), transfers: new Map() };
    states.add(state);
    slots.add(state);
    link.onMessage((m: ToPrimary) => onMessage(state, m));
    link.onExit((code, signal) => {
      states.delete(state);
      slots.remove(state);
      for (const key of ['connections', 'resumedConnections', 'handshakeFailures', 'busy'] as const) retired[key] += state.metrics[key];
      retired.errors.push(...state.metrics.errors);
      const now = Date.now();
      for (const [id, entry] of [...state.transfers]) {
        endTransfer(state, id, 0, {
          client: entry.active.client,
          file: entry.active.file,
          mode: entry.active.mode,
          bytes: entry.active.bytes,
          startedAtMs: entry.active.startedAtMs,
          durationMs: now - entry.active.startedAtMs,
          concurrentAtStart: 0,
          outcome: 'NETPROBE_INTERNAL',
        });
      }
      recomputeMetrics();
      // The primary's own worker ends only with the primary (or when it could not start).
      if (shuttingDown || !started || !link.forked) return;
      crashes = [...crashes.filter((t) => now - t < 60_000), now];
      const delayMs = Math.min(30_000, 250 * 2 ** (crashes.length - 1));
      log.error({ worker: index, pid: link.pid, code, signal, restartInMs: delayMs }, 'server worker exited: starting a new one');
      setTimeout(() => {
        if (shuttingDown) return;
        const next = fork(index);
        void startVerdict(next).catch((err: unknown) =>
          log.error({ worker: index, err: errorMessage(err) }, 'server worker failed to start'),
        );
      }, delayMs).unref();
    });
    return state;
  };

  const fork = (index: number): WorkerState => {
    // cluster.fork merges the primary's environment: a token given as NETPROBE_HTTP_TOKEN is dropped
    // (an undefined value is not passed), so /proc/PID/environ of a worker never holds it.
    const worker = cluster.fork({ [WORKER_SETUP_ENV]: JSON.stringify(setupOf(index)), NETPROBE_HTTP_TOKEN: undefined });
    return track(index, forkedLink(worker));
  };

  /** The start-up verdict of a worker: its first `listening` (or `failed`); once it listens it handles messages and gets its share of the client slots. */
  const startVerdict = async (state: WorkerState) => {
    const listening = await state.handle.request<{ port: number; files: string[] }>(
      undefined,
      (m) => {
        if (m.t === 'listening') return { value: { port: m.port, files: m.files } };
        if (m.t === 'failed') return { error: new NetprobeError(m.code, m.message) };
        return undefined;
      },
      START_TIMEOUT_MS,
      'start',
    );
    slots.offerShare(state);
    return listening;
  };

  let started = false;
  let port: number;
  let files: string[];
  try {
    // The primary's own worker binds the server's socket; the forked ones then accept from it.
    const own = localWorker(setupOf(0), workerConfig, log.child({ worker: 0 }));
    const ownState = track(0, own.link);
    [{ port, files }] = await Promise.all([startVerdict(ownState), own.start()]);
    socket = own.socket;
    const forked = Array.from({ length: workerCount - 1 }, (_, i) => fork(i + 1));
    await Promise.all(forked.map(startVerdict));
    started = true;
  } catch (err) {
    shuttingDown = true;
    for (const s of states) s.handle.worker.kill();
    await Promise.all([...states].map((s) => s.handle.exited));
    throw err;
  }

  let reloads = 0;
  const reloadRevocations = async (): Promise<RevocationSummary> => {
    // Read here first: a bad file fails once, before any worker has changed its lists.
    const next = await loadRevocations(credentials.revocationFiles, credentials.material.ca);
    // The dashboard's certificate login follows the primary's copy.
    revocations = next;
    const req = ++reloads;
    ticketGeneration++;
    const answers = await Promise.all(
      [...states].map((state) =>
        state.handle.request<RevocationSummary>(
          { t: 'reload', req, generation: ticketGeneration },
          (m) => {
            if (m.t === 'reloaded' && m.req === req) return { value: m.summary };
            if (m.t === 'reloadFailed' && m.req === req) return { error: new NetprobeError(m.code, m.message) };
            return undefined;
          },
          RELOAD_TIMEOUT_MS,
          'reload',
        ),
      ),
    );
    return {
      fingerprints: next.fingerprints.size,
      serials: next.serials.size,
      crlNextUpdate: next.crlNextUpdate?.toISOString() ?? null,
      closed: answers.reduce((n, a) => n + a.closed, 0),
    };
  };

  const stop = async (deadlineMs: number): Promise<void> => {
    shuttingDown = true;
    const running = [...states];
    for (const state of running) state.handle.send({ t: 'shutdown', deadlineMs });
    const killer = setTimeout(() => {
      for (const state of states) {
        log.warn({ worker: state.handle.index }, 'server worker did not stop in time: killing it');
        state.handle.worker.kill();
      }
    }, deadlineMs + EXIT_GRACE_MS);
    await Promise.all(running.map((s) => s.handle.exited));
    clearTimeout(killer);
  };

  return {
    port,
    files,
    workers: workerCount,
    reloadRevocations,
    stop,
    get revocations() {
      return revocations;
    },
    get workerPids() {
      return [...states].flatMap((s) => (s.handle.worker.forked && s.handle.worker.pid !== undefined ? [s.handle.worker.pid] : []));
    },
  };
}
