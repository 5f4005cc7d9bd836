import type { Logger } from '../log.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import type { Revocations } from './revocation.js';

/** The periodic 'stats' log line (rates per minute since the previous line); returns a stop function. */
export function startStatsLog(ctx: ServerContext, log: Logger): () => void {
  const { statsIntervalMs } = ctx.config;
  if (statsIntervalMs <= 0) return () => undefined;
  let last = { transfers: 0, bytes: 0, results: 0, at: performance.now() };
  const timer = setInterval(() => {
    const at = performance.now();
    const minutes = (at - last.at) / 60_000;
    const m = ctx.metrics;
    log.info({
      connections: m.openConnections,
      activeTransfers: ctx.load.active,
      transfersPerMin: (ctx.load.totalTransfers - last.transfers) / minutes,
      bytesPerMin: (ctx.load.totalBytes - last.bytes) / minutes,
      resultsPerMin: (m.resultsStored - last.results) / minutes,
      totals: { transfers: ctx.load.totalTransfers, bytes: ctx.load.totalBytes, results: m.resultsStored, duplicates: m.resultsDuplicate, handshakeFailures: m.handshakeFailures, busy: m.busy },
    }, 'stats');
    last = { transfers: ctx.load.totalTransfers, bytes: ctx.load.totalBytes, results: m.resultsStored, at };
  }, statsIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** What the 'listening' log line says about the configuration (the port is added by the caller). */
export function listeningDetails(config: ServerConfig, files: string[], store: string, revocations: Revocations): Record<string, unknown> {
  return {
    host: config.host, tlsMin: config.tlsMin, store, files, limits: {
      maxConnections: config.maxConnections, maxConnectionsPerClient: config.maxConnectionsPerClient,
      maxConcurrentTransfers: config.maxConcurrentTransfers, maxFrameBytes: config.maxFrameBytes,
      handshakeTimeoutMs: config.handshakeTimeoutMs, idleTimeoutMs: config.idleTimeoutMs, frameTimeoutMs: config.frameTimeoutMs },
    revocations: { denyList: config.denyList ?? null, crl: config.crl ?? null, fingerprints: revocations.fingerprints.size, serials: revocations.serials.size },
  };
}
