import type { Logger } from '../log.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import type { Revocations } from './revocation.js';

/**
 * The periodic 'stats' log line (rates per minute since the previous line); returns a stop function.
 * It stands for the per-connection lines ('connection', 'transfer', 'report'), which are logged at
 * debug level only: at 1,000 measurements a round they cost the server more than the counting.
 */
export function startStatsLog(ctx: ServerContext, log: Logger): () => void {
  const { statsIntervalMs } = ctx.config;
  if (statsIntervalMs <= 0) return () => undefined;
  let last = { connections: ctx.metrics.connections, transfers: 0, bytes: 0, results: 0, at: performance.now() };
  const timer = setInterval(() => {
    const at = performance.now();
    const minutes = (at - last.at) / 60_000;
    const m = ctx.metrics;
    log.info(
      {
        connections: m.openConnections,
        connectionsPerMin: (m.connections - last.connections) / minutes,
        activeTransfers: ctx.load.active,
        transfersPerMin: (ctx.load.totalTransfers - last.transfers) / minutes,
        bytesPerMin: (ctx.load.totalBytes - last.bytes) / minutes,
        resultsPerMin: (m.resultsStored - last.results) / minutes,
        totals: {
          connections: m.connections,
          resumedConnections: m.resumedConnections,
          transfers: ctx.load.totalTransfers,
          bytes: ctx.load.totalBytes,
          results: m.resultsStored,
          duplicates: m.resultsDuplicate,
          handshakeFailures: m.handshakeFailures,
          busy: m.busy,
        },
      },
      'stats',
    );
    last = { connections: m.connections, transfers: ctx.load.totalTransfers, bytes: ctx.load.totalBytes, results: m.resultsStored, at };
  }, statsIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** What the 'listening' log line says about the configuration (the port is added by the caller). */
export function listeningDetails(config: ServerConfig, files: string[], store: string, revocations: Revocations): Record<string, unknown> {
  return {
    host: config.host,
    tlsMin: config.tlsMin,
    store,
    files,
    limits: {
      maxConnections: config.maxConnections,
      maxConnectionsPerClient: config.maxConnectionsPerClient,
      maxConcurrentTransfers: config.maxConcurrentTransfers,
      maxFrameBytes: config.maxFrameBytes,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      frameTimeoutMs: config.frameTimeoutMs,
    },
    revocations: {
      denyList: config.denyList ?? null,
      crl: config.crl ?? null,
      fingerprints: revocations.fingerprints.size,
      serials: revocations.serials.size,
    },
  };
}
