import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { StoredResult } from '../protocol/result.js';
import type { TransferRecord } from '../store/types.js';
import { type Budget, localBudget } from './budget.js';
import type { Catalogue } from './catalogue.js';
import type { ServerConfig } from './config.js';
import type { Committer, ReportDelegation } from './ingest.js';
import { LoadTracker } from './load.js';
import { type ClientSlots, localSlots } from './slots.js';
import type { Shaper } from './transfer.js';

export interface ServerMetrics {
  /** TCP connections open now, TLS handshakes in progress included. */
  sockets: number;
  /** Connections accepted since start (after the TLS handshake). */
  connections: number;
  /** Connections open now (after the TLS handshake). */
  openConnections: number;
  /** Of `connections`, those whose handshake resumed a TLS session (no certificates exchanged). */
  resumedConnections: number;
  handshakeFailures: number;
  busy: number;
  resultsStored: number;
  resultsDuplicate: number;
  storageErrors: number;
  /** Errors sent to clients, by code. */
  errors: Map<string, number>;
}

/** A transfer in progress; `bytes` grows as the transfer is sent. */
export interface ActiveTransfer {
  client: string;
  file: string;
  mode: 'file' | 'duration';
  startedAtMs: number;
  bytes: number;
}

/**
 * What a server reports to observers (dashboard, /metrics). `reason` is a stable error code or
 * OpenSSL verification code, never free text, so it can be a metric label.
 */
export interface ServerEvents {
  /** Rows of one committed REPORT, duplicates included. */
  results: [rows: StoredResult[]];
  transferStart: [transfer: ActiveTransfer];
  transferEnd: [transfer: ActiveTransfer, record: TransferRecord];
  /** A REPORT was committed. */
  report: [outcome: { results: number; stored: number; duplicates: number }];
  /** A REPORT was refused and nothing of it stored; `results` is 0 when it could not be parsed. */
  reportRejected: [rejection: { reason: string; results: number }];
  handshakeFailed: [failure: { reason: string }];
  connectionRefused: [
    refusal: {
      reason: 'max_connections' | 'per_client_limit' | 'no_identity' | 'revoked' | 'expired' | 'shutting_down' | 'renegotiation';
    },
  ];
}

/** What every connection of one server shares. */
export interface ServerContext {
  config: ServerConfig;
  serverId: string;
  catalogue: Catalogue;
  load: LoadTracker;
  committer: Committer;
  /** Per-client fair share (a worker's asks its primary). */
  budget: Budget;
  /** The per-client connection limit, server-wide (a worker's asks its primary). */
  slots: ClientSlots;
  metrics: ServerMetrics;
  /** Outbound pacing for a client's transfers (the simulator's load model); none in production. */
  shaperFor: ((client: string) => Shaper | undefined) | undefined;
  shuttingDown: boolean;
  /** The TLS port accepts connections (every worker of a multi-process server answered `listening`). */
  listening: boolean;
  /** Wall clock, ms since the epoch (the simulator injects its own). */
  now: () => number;
  /** The simulator's reporting identity (in-process only; see ReportDelegation). */
  delegation: ReportDelegation | undefined;
  events: EventEmitter<ServerEvents>;
  emitResults(rows: StoredResult[]): void;
}

export function newMetrics(): ServerMetrics {
  return {
    sockets: 0,
    connections: 0,
    openConnections: 0,
    resumedConnections: 0,
    handshakeFailures: 0,
    busy: 0,
    resultsStored: 0,
    resultsDuplicate: 0,
    storageErrors: 0,
    errors: new Map(),
  };
}

export function createContext(
  config: ServerConfig,
  parts: {
    catalogue: Catalogue;
    committer: Committer;
    now: () => number;
    shaperFor?: ((client: string) => Shaper | undefined) | undefined;
    delegation?: ReportDelegation | undefined;
    budget?: Budget;
    slots?: ClientSlots;
  },
): ServerContext {
  const events = new EventEmitter<ServerEvents>();
  return {
    config,
    serverId: config.serverId ?? `${hostname()}:${config.port}`,
    catalogue: parts.catalogue,
    load: new LoadTracker(parts.now),
    committer: parts.committer,
    budget:
      parts.budget ??
      localBudget({ resultsPerMinute: config.clientResultsPerMinute, reportBytesPerMinute: config.clientReportBytesPerMinute }),
    slots: parts.slots ?? localSlots(config.maxConnectionsPerClient),
    metrics: newMetrics(),
    shaperFor: parts.shaperFor,
    shuttingDown: false,
    listening: false,
    now: parts.now,
    delegation: parts.delegation,
    events,
    emitResults: (rows) => events.emit('results', rows),
  };
}
