import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import tls, { type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { ErrorCodes, NetprobeError, errorMessage } from '../errors.js';
import { encodeMessage } from '../protocol/messages.js';
import { silentLogger, type Logger } from '../log.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { loadTlsMaterial, serverTlsOptions } from '../tls/options.js';
import { startWeb, type WebEndpoint } from '../web/index.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { type ServerConfig, type ServerConfigInput, serverConfigSchema } from './config.js';
import { Connection } from './connection.js';
import type { ServerContext, ServerEvents } from './context.js';
import { GroupCommitter } from './ingest.js';
import { LoadTracker } from './load.js';
import type { Shaper } from './transfer.js';

export interface ServerDeps {
  logger?: Logger;
  /** An open store (the server will not close a store it did not open). */
  store?: Store;
  catalogue?: Catalogue;
  shaperFor?: (client: string) => Shaper | undefined;
  now?: () => number;
  /** Dashboard front-end folder (default: the built dist/web/assets). */
  webAssetsDir?: string;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly context: ServerContext;
  readonly store: Store;
  /** The dashboard and /metrics endpoint, when `http` is configured. */
  readonly web: WebEndpoint | undefined;
  /** Stop accepting, let requests in flight finish (until the deadline), flush, close the store. */
  close(deadlineMs?: number): Promise<void>;
}

/** Common name of the peer's verified certificate; the only identity a client has. */
function peerName(socket: TLSSocket): string | undefined {
  const cn = socket.getPeerCertificate()?.subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : Array.isArray(cn) ? undefined : undefined;
}

/** An OpenSSL or node error code usable as a metric label; anything else is 'other'. */
function reasonCode(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(value) ? value : 'other';
}

export async function startServer(input: ServerConfigInput, deps: ServerDeps = {}): Promise<RunningServer> {
  const config: ServerConfig = serverConfigSchema.parse(input);
  const log = (deps.logger ?? silentLogger).child({ component: 'server' });
  const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
  const catalogue = deps.catalogue ?? (await buildCatalogue(config.builtinFiles, config.files));
  const ownsStore = deps.store === undefined;
  const store = deps.store ?? (await openStore(config.store, { synchronous: config.synchronous }));
  const now = deps.now ?? Date.now;
  const events = new EventEmitter<ServerEvents>();
  const ctx: ServerContext = {
    config,
    serverId: config.serverId ?? `${hostname()}:${config.port}`,
    catalogue,
    load: new LoadTracker(now),
    committer: new GroupCommitter(store),
    metrics: { connections: 0, openConnections: 0, handshakeFailures: 0, busy: 0, resultsStored: 0, resultsDuplicate: 0, storageErrors: 0, errors: new Map() },
    shaperFor: deps.shaperFor,
    shuttingDown: false,
    now,
    events,
    emitResults: (rows) => events.emit('results', rows),
  };

  const connections = new Set<Connection>();
  const perClient = new Map<string, number>();
  const rawSockets = new Set<Socket>();

  const server = tls.createServer(serverTlsOptions(material, { minVersion: config.tlsMin, handshakeTimeoutMs: config.handshakeTimeoutMs }));

  server.on('connection', (socket: Socket) => {
    if (rawSockets.size >= config.maxConnections || ctx.shuttingDown) {
      events.emit('connectionRefused', { reason: ctx.shuttingDown ? 'shutting_down' : 'max_connections' });
      log.warn({ peer: socket.remoteAddress, open: rawSockets.size }, 'connection refused: connection limit');
      socket.destroy();
      return;
    }
    rawSockets.add(socket);
    socket.once('close', () => rawSockets.delete(socket));
  });

  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    ctx.metrics.handshakeFailures++;
    // For a certificate from another CA node reports only a reset; the verdict is authorizationError.
    const reason = socket.authorizationError ? String(socket.authorizationError) : err.message;
    events.emit('handshakeFailed', { reason: reasonCode(socket.authorizationError ?? err.code) });
    log.warn({ peer: socket.remoteAddress, code: err.code ?? ErrorCodes.tlsHandshake, reason }, 'TLS handshake refused');
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    const client = peerName(socket);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!socket.authorized || client === undefined) {
      events.emit('connectionRefused', { reason: 'no_identity' });
      log.warn({ peer, reason: socket.authorizationError ?? 'no CN' }, 'client refused: no valid identity');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const count = (perClient.get(client) ?? 0) + 1;
    perClient.set(client, count);
    ctx.metrics.connections++;
    ctx.metrics.openConnections++;
    const conn = new Connection(socket, client, ctx, log);
    connections.add(conn);
    log.info({ peer, client, tlsVersion: socket.getProtocol(), cipher: socket.getCipher().name }, 'connection');
    socket.setTimeout(config.idleTimeoutMs, () => {
      log.info({ peer, client }, 'idle timeout');
      socket.end(encodeMessage({ type: 'ERROR', code: ErrorCodes.timeout, message: `idle for ${config.idleTimeoutMs} ms` }));
      socket.destroySoon();
    });
    socket.on('error', (err) => log.debug({ peer, client, err: errorMessage(err) }, 'socket error'));
    socket.once('close', () => {
      ctx.metrics.openConnections--;
      connections.delete(conn);
      const left = (perClient.get(client) ?? 1) - 1;
      if (left <= 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    if (count > config.maxConnectionsPerClient) {
      events.emit('connectionRefused', { reason: 'per_client_limit' });
      log.warn({ peer, client, open: count }, 'connection refused: per-client limit');
      socket.end(encodeMessage({ type: 'ERROR', code: ErrorCodes.limit, message: `at most ${config.maxConnectionsPerClient} connections per client` }));
      return;
    }
    conn.start();
  });

  let web: WebEndpoint | undefined;
  try {
    if (config.http !== undefined) {
      web = await startWeb(ctx, { store, material, logger: deps.logger ?? silentLogger, assetsDir: deps.webAssetsDir });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new NetprobeError(ErrorCodes.config, `cannot listen on ${config.host}:${config.port}: ${err.message}`, { cause: err })),
      );
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await web?.close();
    if (ownsStore) await store.close();
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  // With port 0 the default id names the port actually bound.
  if (config.serverId === undefined) ctx.serverId = `${hostname()}:${port}`;
  log.info(
    { host: config.host, port, tlsMin: config.tlsMin, store: store.location, files: catalogue.names(), limits: {
      maxConnections: config.maxConnections, maxConnectionsPerClient: config.maxConnectionsPerClient,
      maxConcurrentTransfers: config.maxConcurrentTransfers, maxFrameBytes: config.maxFrameBytes,
      handshakeTimeoutMs: config.handshakeTimeoutMs, idleTimeoutMs: config.idleTimeoutMs } },
    'listening',
  );

  let last = { transfers: 0, bytes: 0, results: 0, at: performance.now() };
  const statsTimer = config.statsIntervalMs > 0
    ? setInterval(() => {
        const at = performance.now();
        const minutes = (at - last.at) / 60_000;
        const m = ctx.metrics;
        log.info({
          connections: connections.size,
          activeTransfers: ctx.load.active,
          transfersPerMin: (ctx.load.totalTransfers - last.transfers) / minutes,
          bytesPerMin: (ctx.load.totalBytes - last.bytes) / minutes,
          resultsPerMin: (m.resultsStored - last.results) / minutes,
          totals: { transfers: ctx.load.totalTransfers, bytes: ctx.load.totalBytes, results: m.resultsStored, duplicates: m.resultsDuplicate, handshakeFailures: m.handshakeFailures, busy: m.busy },
        }, 'stats');
        last = { transfers: ctx.load.totalTransfers, bytes: ctx.load.totalBytes, results: m.resultsStored, at };
      }, config.statsIntervalMs)
    : undefined;
  statsTimer?.unref();

  let closed: Promise<void> | undefined;
  const close = (deadlineMs = config.shutdownDeadlineMs): Promise<void> => {
    closed ??= (async () => {
      ctx.shuttingDown = true;
      if (statsTimer) clearInterval(statsTimer);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const conn of connections) conn.closeWhenIdle();
      const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), deadlineMs).unref());
      const finished = await Promise.race([stopped.then(() => 'done' as const), deadline]);
      if (finished === 'deadline') {
        log.warn({ open: rawSockets.size }, 'shutdown deadline reached: closing remaining connections');
        for (const s of rawSockets) s.destroy();
        await stopped;
      }
      await ctx.committer.drain();
      await web?.close();
      if (ownsStore) await store.close();
      log.info({}, 'stopped');
    })();
    return closed;
  };

  return { host: config.host, port, context: ctx, store, web, close };
}
