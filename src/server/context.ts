import type { EventEmitter } from 'node:events';
import type { StoredResult } from '../protocol/result.js';
import type { Catalogue } from './catalogue.js';
import type { ServerConfig } from './config.js';
import type { GroupCommitter } from './ingest.js';
import type { LoadTracker } from './load.js';
import type { Shaper } from './transfer.js';

export interface ServerMetrics {
  connections: number;
  handshakeFailures: number;
  busy: number;
  resultsStored: number;
  resultsDuplicate: number;
  storageErrors: number;
  /** Errors sent to clients, by code. */
  errors: Map<string, number>;
}

/** What every connection of one server shares. */
export interface ServerContext {
  config: ServerConfig;
  serverId: string;
  catalogue: Catalogue;
  load: LoadTracker;
  committer: GroupCommitter;
  metrics: ServerMetrics;
  /** Outbound pacing for a client's transfers (the simulator's load model); none in production. */
  shaperFor: ((client: string) => Shaper | undefined) | undefined;
  shuttingDown: boolean;
  /** Wall clock, ms since the epoch (the simulator injects its own). */
  now: () => number;
  events: EventEmitter;
  emitResults(rows: StoredResult[]): void;
}
