/**
 * Server start-up, written once. The single-process server (server.ts) and the primary of a
 * multi-process one (cluster.ts) boot through `bootServer`: credentials, catalogue, store, context,
 * observer, then TLS served (a listener here, or worker processes), the server id fixed, the
 * `listening` line, the stats log, and one shutdown order. The observer (the dashboard) comes from
 * whoever starts the server, through `deps.observe`: the server does not know it. A worker
 * (worker.ts) loads its credentials and serves TLS with the same `loadCredentials` and
 * `serveInProcess`.
 */
import type { Server } from 'node:net';
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../log.js';
import { tcpInfoSupport } from '../tcp-info.js';
import { openStore } from '../store/open.js';
import { loadTlsMaterial, type TlsMaterial } from '../tls/options.js';
import type { Catalogue } from './catalogue.js';
import type { ServerConfig } from './config.js';
import { type ServerContext, createContext } from './context.js';
import { GroupCommitter } from './ingest.js';
import { type ListenOptions, type RevocationSummary, listenTls } from './listener.js';
import { warnUncoveredNames } from './names.js';
import { type RevocationFiles, type Revocations, loadRevocations, revokedBy } from './revocation.js';
import type { RunningServer, ServerDeps } from './running.js';
import { listeningDetails, startStatsLog } from './stats.js';
import type { Observer } from './view.js';

/** The TLS material and revocation lists a server starts with. */
export interface Credentials {
  material: TlsMaterial;
  revocationFiles: RevocationFiles;
  revocations: Revocations;
}

/**
 * Reads and checks the TLS material and the revocation lists. With `log`, warns about the names
 * clients may use that the certificate does not cover (once a server: workers pass none).
 */
export async function loadCredentials(config: ServerConfig, log?: Logger): Promise<Credentials> {
  const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
  if (log !== undefined) warnUncoveredNames(material.cert, config, log);
  const revocationFiles = { denyList: config.denyList, crl: config.crl };
  return { material, revocationFiles, revocations: await loadRevocations(revocationFiles, material.ca) };
}

/** Without a configured id the server is named after the port bound (with port 0, the port actually bound). */
export function nameServer(ctx: ServerContext, port: number): void {
  if (ctx.config.serverId === undefined) ctx.serverId = `${hostname()}:${port}`;
}

/** What serves TLS for a booted server: a listener in this process, or worker processes. */
export interface Serving {
  readonly port: number;
  /** Names of the test files served. */
  readonly files: string[];
  /** Processes serving TLS. */
  readonly workers: number;
  readonly workerPids: readonly number[];
  /** The listening socket, when this process's listener bound it. */
  readonly socket?: Server;
  /** The deny list and CRL in force (replaced by a successful reload). */
  readonly revocations: Revocations;
  /** `generation`: of the ticket keys derived after the reload (workers; see TicketKeySource). */
  reloadRevocations(generation?: number): Promise<RevocationSummary>;
  /** Stops accepting; requests in flight may finish until the deadline. */
  stop(deadlineMs: number): Promise<void>;
}

/** Serves TLS in this process (a single-process server, a worker). */
export async function serveInProcess(
  ctx: ServerContext,
  credentials: Credentials,
  log: Logger,
  options: ListenOptions = {},
): Promise<Serving> {
  const listener = await listenTls(ctx, credentials.material, credentials.revocationFiles, credentials.revocations, log, options);
  return {
    port: listener.port,
    files: ctx.catalogue.names(),
    workers: 1,
    workerPids: [],
    socket: listener.server,
    get revocations() {
      return listener.revocations;
    },
    reloadRevocations: (generation) => listener.reloadRevocations(generation),
    stop: (deadlineMs) => listener.close(deadlineMs),
  };
}

export interface BootPlan {
  /** The files this process serves (a primary keeps none: its workers serve them). */
  catalogue(): Promise<Catalogue>;
  /** Starts serving TLS; on a failure it undoes what it started before rejecting. */
  serve(ctx: ServerContext, credentials: Credentials, log: Logger): Promise<Serving>;
}

export async function bootServer(config: ServerConfig, deps: ServerDeps, plan: BootPlan): Promise<RunningServer> {
  const log = (deps.logger ?? silentLogger).child({ component: 'server' });
  // Checked here first, so a bad file is one clear error rather than one per worker.
  const credentials = await loadCredentials(config, log);
  const catalogue = await plan.catalogue();
  const ownsStore = deps.store === undefined;
  const store =
    deps.store ?? (await openStore(config.store, { synchronous: config.synchronous, busyTimeoutMs: config.storeBusyTimeoutMs }));
  const ctx = createContext(config, {
    catalogue,
    committer: new GroupCommitter(store),
    now: deps.now ?? Date.now,
    shaperFor: deps.shaperFor,
    delegation: deps.delegation,
  });

  let observer: Observer | undefined;
  let serving: Serving | undefined;
  try {
    observer = await deps.observe?.({
      view: ctx,
      store,
      material: credentials.material,
      // Until TLS is served nobody can log in; then its lists, reloads included.
      revokedBy: (cert) => revokedBy(serving?.revocations ?? credentials.revocations, cert),
    });
    serving = await plan.serve(ctx, credentials, log);
  } catch (err) {
    await observer?.close();
    if (ownsStore) await store.close();
    throw err;
  }
  const served = serving;
  const { port, files, workers } = served;
  nameServer(ctx, port);
  ctx.listening = true;
  log.info(
    { ...listeningDetails(config, files, store.location, credentials.revocations), port, ...(workers > 1 ? { workers } : {}) },
    'listening',
  );
  const tcpInfo = tcpInfoSupport();
  if (!tcpInfo.available)
    log.warn(
      { reason: tcpInfo.reason },
      'TCP_INFO cannot be read here (the addon native/tcp_info.c did not build at install): results carry tcpRttMs and tcpRetransmits as null',
    );

  const reloadRevocations = async (): Promise<RevocationSummary> => {
    const summary = await served.reloadRevocations();
    log.info(summary, 'revocations reloaded');
    return summary;
  };

  const stopStats = startStatsLog(ctx, log);
  let closed: Promise<void> | undefined;
  const close = (deadlineMs = config.shutdownDeadlineMs): Promise<void> => {
    closed ??= (async () => {
      ctx.shuttingDown = true;
      stopStats();
      await served.stop(deadlineMs);
      await ctx.committer.drain();
      await observer?.close();
      if (ownsStore) await store.close();
      log.info({}, 'stopped');
    })();
    return closed;
  };

  return {
    host: config.host,
    port,
    context: ctx,
    store,
    workers,
    files,
    reloadRevocations,
    close,
    get workerPids() {
      return served.workerPids;
    },
  };
}
