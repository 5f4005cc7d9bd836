/**
 * What starting a server takes and gives: the types shared by server.ts (`startServer`), boot.ts and
 * cluster.ts, kept apart so that none of them imports another for its types (no import cycle).
 */
import type { Logger } from '../log.js';
import type { Store } from '../store/types.js';
import type { Catalogue } from './catalogue.js';
import type { ServerContext } from './context.js';
import type { ReportDelegation } from './ingest.js';
import type { RevocationSummary } from './listener.js';
import type { Shaper } from './transfer.js';
import type { StartObserver } from './view.js';

export interface ServerDeps {
  logger?: Logger;
  /** An open store (the server will not close a store it did not open). */
  store?: Store;
  catalogue?: Catalogue;
  shaperFor?: (client: string) => Shaper | undefined;
  now?: () => number;
  /** The simulator's reporting identity (see ReportDelegation); never set by a deployed server. */
  delegation?: ReportDelegation;
  /**
   * An observer started with the server (the dashboard: cli/serve.ts), handed a read-only view
   * before TLS is served and closed after the last commit. In a multi-process server it runs in the
   * primary, which sees every worker's events.
   */
  observe?: StartObserver;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly context: ServerContext;
  readonly store: Store;
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
