import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { ErrorCodes, NetprobeError, errorMessage } from '../errors.js';
import { encodeMessage } from '../protocol/messages.js';
import { silentLogger, type Logger } from '../log.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { type TlsMaterial, loadTlsMaterial, serverTlsOptions } from '../tls/options.js';
import { startWeb, type WebEndpoint } from '../web/index.js';
import { buildCatalogue, type Catalogue } from './catalogue.js';
import { type ServerConfig, type ServerConfigInput, serverConfigSchema } from './config.js';
import { Connection, endGracefully } from './connection.js';
import type { ServerContext, ServerEvents } from './context.js';
import { GroupCommitter } from './ingest.js';
import { LoadTracker } from './load.js';
import { type Revocations, loadRevocations, revokedBy } from './revocation.js';
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
  /**
   * Shows a generated dashboard token to the operator (the CLI prints it once on stderr). It never
   * goes into the log; without this hook it is only in `web.token`.
   */
  announceToken?: (url: string, token: string) => void;
}

export interface RevocationSummary {
  fingerprints: number;
  serials: number;
  crlNextUpdate: string | null;
  /** Open connections closed because their certificate is now revoked. */
  closed: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly context: ServerContext;
  readonly store: Store;
  /** The dashboard and /metrics endpoint, when `http` is configured. */
  readonly web: WebEndpoint | undefined;
  /**
   * Re-reads `denyList` and `crl` (SIGHUP in the CLI), closes open connections whose certificate is
   * now revoked and invalidates TLS session tickets. On an error the previous lists stay in force.
   */
  reloadRevocations(): Promise<RevocationSummary>;
  /** Stop accepting, let requests in flight finish (until the deadline), flush, close the store. */
  close(deadlineMs?: number): Promise<void>;
}

/** Common name of the peer's verified certificate; the only identity a client has. */
function peerName(cert: PeerCertificate | undefined): string | undefined {
  const cn = cert?.subject?.CN as unknown;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
}

interface Identity {
  client: string;
  fingerprint256: string;
  serialNumber: string;
}

function tlsOptions(material: TlsMaterial, config: ServerConfig, revocations: Revocations): tls.TlsOptions {
  return serverTlsOptions(material, { minVersion: config.tlsMin, handshakeTimeoutMs: config.handshakeTimeoutMs, crl: revocations.crlPem });
}

/**
 * The peer address of a socket node may already have destroyed (a refused certificate): the TLS
 * socket forgets it, the TCP socket under it (`_parent`, read in 'connection') keeps it.
 */
function peerAddress(socket: TLSSocket): string | undefined {
  return socket.remoteAddress ?? (socket as unknown as { _parent?: Socket })._parent?.remoteAddress;
}

/** An OpenSSL or node error code usable as a metric label; anything else is 'other'. */
function reasonCode(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(value) ? value : 'other';
}

export async function startServer(input: ServerConfigInput, deps: ServerDeps = {}): Promise<RunningServer> {
  const config: ServerConfig = serverConfigSchema.parse(input);
  const log = (deps.logger ?? silentLogger).child({ component: 'server' });
  const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
  const revocationFiles = { denyList: config.denyList, crl: config.crl };
  let revocations = await loadRevocations(revocationFiles, material.ca);
  const catalogue = deps.catalogue ?? (await buildCatalogue(config.builtinFiles, config.files));
  const ownsStore = deps.store === undefined;
  const store = deps.store ?? (await openStore(config.store, { synchronous: config.synchronous, busyTimeoutMs: config.storeBusyTimeoutMs }));
  const now = deps.now ?? Date.now;
  const events = new EventEmitter<ServerEvents>();
  const ctx: ServerContext = {
    config,
    serverId: config.serverId ?? `${hostname()}:${config.port}`,
    catalogue,
    load: new LoadTracker(now),
    committer: new GroupCommitter(store),
    metrics: { sockets: 0, connections: 0, openConnections: 0, handshakeFailures: 0, busy: 0, resultsStored: 0, resultsDuplicate: 0, storageErrors: 0, errors: new Map() },
    shaperFor: deps.shaperFor,
    shuttingDown: false,
    now,
    events,
    emitResults: (rows) => events.emit('results', rows),
  };

  const connections = new Map<Connection, Identity & { socket: TLSSocket }>();
  const perClient = new Map<string, number>();
  const rawSockets = new Set<Socket>();

  const server = tls.createServer(tlsOptions(material, config, revocations));

  server.on('connection', (socket: Socket) => {
    if (rawSockets.size >= config.maxConnections || ctx.shuttingDown) {
      events.emit('connectionRefused', { reason: ctx.shuttingDown ? 'shutting_down' : 'max_connections' });
      log.warn({ peer: socket.remoteAddress, open: rawSockets.size }, 'connection refused: connection limit');
      socket.destroy();
      return;
    }
    // Read now, while the handle is open: net caches it for the handshake-failure log line.
    void socket.remoteAddress;
    rawSockets.add(socket);
    ctx.metrics.sockets = rawSockets.size;
    socket.once('close', () => {
      rawSockets.delete(socket);
      ctx.metrics.sockets = rawSockets.size;
    });
  });

  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    ctx.metrics.handshakeFailures++;
    // For a certificate from another CA node reports only a reset; the verdict is authorizationError.
    const reason = socket.authorizationError ? String(socket.authorizationError) : err.message;
    events.emit('handshakeFailed', { reason: reasonCode(socket.authorizationError ?? err.code) });
    log.warn({ peer: peerAddress(socket), code: err.code ?? ErrorCodes.tlsHandshake, reason }, 'TLS handshake refused');
    // With a 'tlsClientError' listener node leaves the socket open (a handshake timeout included).
    socket.destroy();
  });

  server.on('secureConnection', (socket: TLSSocket) => {
    const cert = socket.getPeerCertificate();
    const client = peerName(cert);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    if (!socket.authorized || client === undefined) {
      events.emit('connectionRefused', { reason: 'no_identity' });
      log.warn({ peer, reason: socket.authorizationError ?? 'no CN' }, 'client refused: no valid identity');
      socket.destroy();
      return;
    }
    const revoked = revokedBy(revocations, cert);
    if (revoked !== undefined) {
      events.emit('connectionRefused', { reason: 'revoked' });
      log.warn({ peer, client, reason: 'revoked', by: revoked, fingerprint256: cert.fingerprint256 }, 'client refused: certificate revoked');
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const count = (perClient.get(client) ?? 0) + 1;
    perClient.set(client, count);
    ctx.metrics.connections++;
    ctx.metrics.openConnections++;
    const conn = new Connection(socket, client, ctx, log);
    connections.set(conn, { socket, client, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber });
    log.info({ peer, client, tlsVersion: socket.getProtocol(), cipher: socket.getCipher().name }, 'connection');
    socket.setTimeout(config.idleTimeoutMs, () => {
      log.info({ peer, client }, 'idle timeout');
      endGracefully(socket, encodeMessage({ type: 'ERROR', code: ErrorCodes.timeout, message: `idle for ${config.idleTimeoutMs} ms` }));
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
      endGracefully(socket, encodeMessage({ type: 'ERROR', code: ErrorCodes.limit, message: `at most ${config.maxConnectionsPerClient} connections per client` }));
      return;
    }
    conn.start();
  });

  let web: WebEndpoint | undefined;
  try {
    if (config.http !== undefined) {
      web = await startWeb(ctx, { store, material, logger: deps.logger ?? silentLogger, assetsDir: deps.webAssetsDir, announceToken: deps.announceToken });
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
      handshakeTimeoutMs: config.handshakeTimeoutMs, idleTimeoutMs: config.idleTimeoutMs, frameTimeoutMs: config.frameTimeoutMs },
      revocations: { denyList: config.denyList ?? null, crl: config.crl ?? null, fingerprints: revocations.fingerprints.size, serials: revocations.serials.size } },
    'listening',
  );

  const reloadRevocations = async (): Promise<RevocationSummary> => {
    const next = await loadRevocations(revocationFiles, material.ca);
    // New handshakes use the new CRL; tickets issued before cannot resume a session past it.
    server.setSecureContext(tlsOptions(material, config, next));
    server.setTicketKeys(randomBytes(48));
    revocations = next;
    let closed = 0;
    for (const [conn, id] of connections) {
      const by = revokedBy(next, id);
      if (by === undefined) continue;
      closed++;
      log.warn({ client: conn.client, reason: 'revoked', by, fingerprint256: id.fingerprint256 }, 'connection closed: certificate revoked');
      id.socket.destroy();
    }
    const summary = { fingerprints: next.fingerprints.size, serials: next.serials.size, crlNextUpdate: next.crlNextUpdate?.toISOString() ?? null, closed };
    log.info(summary, 'revocations reloaded');
    return summary;
  };

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
      for (const conn of connections.keys()) conn.closeWhenIdle();
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

  return { host: config.host, port, context: ctx, store, web, reloadRevocations, close };
}
