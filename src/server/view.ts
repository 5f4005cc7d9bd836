/**
 * What a server shows to observers it does not know (the dashboard and /metrics, started by whoever
 * starts the server: cli/serve.ts). The server imports no observer; an observer sees the server
 * through these types only (.dependency-cruiser.cjs: web/ may import server/ types only, server/
 * never imports web/).
 */
import type { EventEmitter } from 'node:events';
import type { PeerCertificate } from 'node:tls';
import type { AnalysisSource, ResultSink } from '../store/types.js';
import type { TlsMaterial } from '../tls/material.js';
import type { ServerConfig } from './config.js';
import type { ServerEvents, ServerMetrics } from './context.js';
import type { LoadTracker } from './load.js';

/** A read-only view of a running server: counters, load, live events, and the settings an observer shows. */
export interface ServerView {
  /** Fixed once TLS is served (named after the port bound unless configured). */
  readonly serverId: string;
  /** The TLS port accepts connections. */
  readonly listening: boolean;
  readonly shuttingDown: boolean;
  readonly metrics: Readonly<ServerMetrics>;
  readonly load: Readonly<Pick<LoadTracker, 'active' | 'totalBytes'>> & Pick<LoadTracker, 'outboundMbps'>;
  /** Committed results, transfers, refusals (see ServerEvents). */
  readonly events: Pick<EventEmitter<ServerEvents>, 'on' | 'off'>;
  readonly config: Readonly<Pick<ServerConfig, 'maxConcurrentTransfers'>>;
  /** The server's wall clock, ms since the epoch. */
  readonly now: () => number;
}

/** What an observer is handed when the server starts it. */
export interface ObservedServer {
  readonly view: ServerView;
  /** Read queries; `checkWritable` answers whether a write could commit now (readiness). */
  readonly store: AnalysisSource & Pick<ResultSink, 'checkWritable'>;
  /** The server's certificate, key and CA (an HTTPS endpoint serves the same identity). */
  readonly material: TlsMaterial;
  /** The server's current revocation verdict for a client certificate (reloads included). */
  revokedBy(cert: Pick<PeerCertificate, 'fingerprint256' | 'serialNumber'>): string | undefined;
}

export interface Observer {
  close(): Promise<void>;
}

/**
 * Starts an observer of the server. Called once the context exists and before TLS is served, so
 * it sees every event; closed after the last commit, before the store closes.
 */
export type StartObserver = (server: ObservedServer) => Promise<Observer>;
