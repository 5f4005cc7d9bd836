import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { loadTlsMaterial } from '../tls/options.js';
import { warnUncoveredNames } from './names.js';
import { startWeb, type WebEndpoint } from '../web/index.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { startCluster } from './cluster.js';
import { type ServerConfig, type ServerConfigInput, resolveWorkers, serverConfigSchema } from './config.js';
import { type ServerContext, createContext } from './context.js';
import { GroupCommitter, type ReportDelegation } from './ingest.js';
import { type RevocationSummary, type TlsListener, listenTls } from './listener.js';
import { loadRevocations, revokedBy } from './revocation.js';
import { listeningDetails, startStatsLog } from './stats.js';
import type { Shaper } from './transfer.js';

export type { RevocationSummary } from './listener.js';

export interface ServerDeps {
  logger?: Logger;
  /** An open store (the server will not close a store it did not open). */
  store?: Store;
  catalogue?: Catalogue;
  shaperFor?: (client: string) => Shaper | undefined;
  now?: () => number;
  /** The simulator's reporting identity (see ReportDelegation); never set by a deployed server. */
  delegation?: ReportDelegation;
  /** Dashboard front-end folder (default: the built dist/web/assets). */
  webAssetsDir?: string;
  /**
   * Shows a generated dashboard token to the operator (the CLI: on a terminal only), with the file
   * that keeps it (next to a SQLite store). It never goes into the log; else it is in `web.token`.
   */
  announceToken?: (url: string, token: string, tokenFile: string | undefined) => void;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly context: ServerContext;
  readonly store: Store;
  /** The dashboard and /metrics endpoint, when `http` is configured. */
  readonly web: WebEndpoint | undefined;
  /** Processes serving TLS: 1, or the workers of a multi-process server (`workers`). */
  readonly workers: number;
  /** Names of the test files served. */
  readonly files: readonly string[];
  /** Process ids of the running workers (none for a single-process server). */
  readonly workerPids: readonly number[];
  /**
   * Re-reads `denyList` and `crl` (SIGHUP in the CLI), closes open connections whose certificate is
   * now revoked and invalidates TLS session tickets. On an error the previous lists stay in force.
   */
  reloadRevocations(): Promise<RevocationSummary>;
  /** Stop accepting, let requests in flight finish (until the deadline), flush, close the store. */
  close(deadlineMs?: number): Promise<void>;
}

/**
 * Starts a server: in this process, or (with `workers` above 1) as a primary that owns the store
 * and the dashboard plus that many worker processes serving TLS (see cluster.ts).
 */
export async function startServer(input: ServerConfigInput, deps: ServerDeps = {}): Promise<RunningServer> {
  const config: ServerConfig = serverConfigSchema.parse(input);
  const workers = resolveWorkers(config.workers);
  if (workers > 1) {
    const injected = (['store', 'catalogue', 'shaperFor', 'now', 'delegation'] as const).filter((k) => deps[k] !== undefined);
    if (injected.length > 0) throw new ConfigError(`workers: ${workers} cannot be combined with an in-process ${injected.join(', ')}; use workers: 1`);
    return startCluster(config, workers, deps);
  }
  const log = (deps.logger ?? silentLogger).child({ component: 'server' });
  const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
  warnUncoveredNames(material.cert, config, log);
  const revocationFiles = { denyList: config.denyList, crl: config.crl };
  const revocations = await loadRevocations(revocationFiles, material.ca);
  const catalogue = deps.catalogue ?? (await buildCatalogue(config.builtinFiles, config.files));
  const ownsStore = deps.store === undefined;
  const store = deps.store ?? (await openStore(config.store, { synchronous: config.synchronous, busyTimeoutMs: config.storeBusyTimeoutMs }));
  const ctx: ServerContext = createContext(config, {
    catalogue,
    committer: new GroupCommitter(store),
    now: deps.now ?? Date.now,
    shaperFor: deps.shaperFor,
    delegation: deps.delegation,
  });

  let web: WebEndpoint | undefined;
  let listener: TlsListener | undefined;
  try {
    if (config.http !== undefined) {
      web = await startWeb(ctx, {
        store, material, logger: deps.logger ?? silentLogger, assetsDir: deps.webAssetsDir, announceToken: deps.announceToken,
        // Until the listener exists nobody can log in; then its lists, reloads included.
        revokedBy: (cert) => revokedBy(listener?.revocations ?? revocations, cert),
      });
    }
    listener = await listenTls(ctx, material, revocationFiles, revocations, log);
  } catch (err) {
    await web?.close();
    if (ownsStore) await store.close();
    throw err;
  }
  const { port } = listener;
  // With port 0 the default id names the port actually bound.
  if (config.serverId === undefined) ctx.serverId = `${hostname()}:${port}`;
  ctx.listening = true;
  log.info({ ...listeningDetails(config, catalogue.names(), store.location, revocations), port }, 'listening');

  const reloadRevocations = async (): Promise<RevocationSummary> => {
    const summary = await listener.reloadRevocations();
    log.info(summary, 'revocations reloaded');
    return summary;
  };

  const stopStats = startStatsLog(ctx, log);
  let closed: Promise<void> | undefined;
  const close = (deadlineMs = config.shutdownDeadlineMs): Promise<void> => {
    closed ??= (async () => {
      ctx.shuttingDown = true;
      stopStats();
      await listener.close(deadlineMs);
      await ctx.committer.drain();
      await web?.close();
      if (ownsStore) await store.close();
      log.info({}, 'stopped');
    })();
    return closed;
  };

  return { host: config.host, port, context: ctx, store, web, workers: 1, files: catalogue.names(), workerPids: [], reloadRevocations, close };
}
