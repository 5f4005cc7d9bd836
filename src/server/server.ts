import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { WebEndpoint } from '../web/index.js';
import { bootServer, serveInProcess } from './boot.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { startCluster } from './cluster.js';
import { type ServerConfig, type ServerConfigInput, resolveWorkers, serverConfigSchema } from './config.js';
import type { ServerContext } from './context.js';
import type { ReportDelegation } from './ingest.js';
import type { RevocationSummary } from './listener.js';
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
  return bootServer(config, deps, {
    catalogue: async () => deps.catalogue ?? (await buildCatalogue(config.builtinFiles, config.files)),
    serve: serveInProcess,
  });
}
