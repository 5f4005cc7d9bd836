/**
 * The TLS side of a server: accepts connections, verifies the client's identity (certificate, CRL,
 * deny list, per-client limit: `ctx.slots`) and hands each verified connection to a `Connection`. Used by a
 * single-process server and by every worker of a multi-process one; storage is behind `ctx`.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { ErrorCodes, NetprobeError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { encodeMessage } from '../protocol/messages.js';
import { type TlsMaterial, serverTlsOptions } from '../tls/options.js';
import type { ServerConfig } from './config.js';
import { Connection, endGracefully } from './connection.js';
import type { ServerContext } from './context.js';
import { PeerIdentities } from './peer-identity.js';
import { type RevocationFiles, type Revocations, loadRevocations, revokedBy } from './revocation.js';

export interface RevocationSummary {
  fingerprints: number;
  serials: number;
  crlNextUpdate: string | null;
  /** Open connections closed because their certificate is now revoked. */
  closed: number;
}

export interface TlsListener {
  readonly port: number;
  /** The deny list and CRL in force (replaced by a successful reload). */
  readonly revocations: Revocations;
  /** Verified connections open now. */
  readonly connections: number;
  /** The listening socket (the primary passes it to its forked workers). */
  readonly server: Server;
  /**
   * Re-reads the deny list and CRL, closes open connections whose certificate is now revoked and
   * invalidates TLS session tickets (new ticket keys: with `tickets`, those of `generation`). On an
   * error the previous lists stay in force.
   */
  reloadRevocations(generation?: number): Promise<RevocationSummary>;
  /** Stops accepting, closes connections once idle; after `deadlineMs` destroys what is left. */
  close(deadlineMs: number): Promise<void>;
}

/**
 * Where the TLS session ticket keys of the workers of one server come from: every worker derives the
 * same keys from its private key and the primary's seed (HKDF-SHA256), so a session resumed on
 * another worker than the one that issued the ticket works, and no key travels between processes.
 * `generation` changes them (each revocation reload: tickets issued before cannot resume).
 */
export interface TicketKeySource {
  seed: Buffer;
  generation: number;
}

/** 48 bytes of ticket keys (node's setTicketKeys format) for `generation`. */
export function deriveTicketKeys(privateKeyPem: Buffer, source: TicketKeySource): Buffer {
  return Buffer.from(
    hkdfSync('sha256', privateKeyPem, source.seed, `netprobe TLS session ticket keys, generation ${source.generation}`, 48),
  );
}

interface Identity {
  client: string;
  fingerprint256: string;
  serialNumber: string;
  socket: TLSSocket;
}

function tlsOptions(material: TlsMaterial, config: ServerConfig, revocations: Revocations): tls.TlsOptions {
  return serverTlsOptions(material, {
    minVersion: config.tlsMin,
    handshakeTimeoutMs: config.handshakeTimeoutMs,
    sessionLifetimeMs: config.tlsSessionLifetimeMs,
    crl: revocations.crlPem,
  });
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

/**
 * Refuses a connection after its handshake, before HELLO is read, with an ERROR that says why, so
 * the client records the cause: a certificate the server does not accept (revoked, or expired since
 * its resumed session began: NETPROBE_TLS_UNAUTHORIZED, a setup failure, where a bare close would
 * count as a network one) or the per-client limit. What the client sends meanwhile is read and
 * dropped: a socket nobody reads never sees the client's close and would stay open until the grace
 * period ends.
 */
function refuse(socket: TLSSocket, code: string, message: string): void {
  socket.resume();
  endGracefully(socket, encodeMessage({ type: 'ERROR', code, message }));
}

/** How the listener of a worker differs from a single process's. */
export interface ListenOptions {
  /** The ticket keys shared by the workers of one server; without, node's own random keys (tickets resume within the process). */
  tickets?: TicketKeySource;
  /** A listening socket to accept from (a forked worker's, passed by its primary) instead of binding `config.host`:`config.port`. */
  socket?: Server;
}

export async function listenTls(
  ctx: ServerContext,
  material: TlsMaterial,
  revocationFiles: RevocationFiles,
  initialRevocations: Revocations,
  log: Logger,
  { tickets, socket: shared }: ListenOptions = {},
): Promise<TlsListener> {
  const { config, events } = ctx;
  let revocations = initialRevocations;
  const connections = new Map<Connection, Identity>();
  const rawSockets = new Set<Socket>();
  const identities = new PeerIdentities();

  const server = tls.createServer(tlsOptions(material, config, revocations));
  if (tickets !== undefined) server.setTicketKeys(deriveTicketKeys(material.key, tickets));

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
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const cert = socket.authorized ? identities.of(socket) : undefined;
    const client = cert?.client;
    if (cert === undefined || client === undefined) {
      events.emit('connectionRefused', { reason: 'no_identity' });
      log.warn({ peer, reason: socket.authorizationError ?? 'no CN' }, 'client refused: no valid identity');
      socket.destroy();
      return;
    }
    const revoked = revokedBy(revocations, cert);
    if (revoked !== undefined) {
      events.emit('connectionRefused', { reason: 'revoked' });
      log.warn(
        { peer, client, reason: 'revoked', by: revoked, fingerprint256: cert.fingerprint256 },
        'client refused: certificate revoked',
      );
      refuse(socket, ErrorCodes.tlsUnauthorized, 'the client certificate is revoked');
      return;
    }
    // OpenSSL checked the validity in the full handshake that made the session, not now.
    if (socket.isSessionReused() && !(cert.validToMs > Date.now())) {
      events.emit('connectionRefused', { reason: 'expired' });
      log.warn(
        { peer, client, reason: 'expired', validTo: new Date(cert.validToMs).toISOString(), fingerprint256: cert.fingerprint256 },
        'client refused: certificate expired (resumed TLS session)',
      );
      refuse(socket, ErrorCodes.tlsUnauthorized, 'the client certificate has expired');
      return;
    }
    socket.setNoDelay(true);
    ctx.metrics.connections++;
    if (socket.isSessionReused()) ctx.metrics.resumedConnections++;
    ctx.metrics.openConnections++;
    const conn = new Connection(socket, client, ctx, log);
    connections.set(conn, { socket, client, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber });
    // Per connection at debug only: the 'stats' line counts connections (connectionsPerMin).
    if (log.isLevelEnabled('debug'))
      log.debug({ peer, client, tlsVersion: socket.getProtocol(), cipher: socket.getCipher().name }, 'connection');
    socket.setTimeout(config.idleTimeoutMs, () => {
      log.info({ peer, client }, 'idle timeout');
      endGracefully(socket, encodeMessage({ type: 'ERROR', code: ErrorCodes.timeout, message: `idle for ${config.idleTimeoutMs} ms` }));
    });
    // netprobe never renegotiates; a TLS 1.2 peer could ask for it, and every renegotiation is a
    // full handshake's CPU: the first attempt closes the connection. (TLS 1.3 has no renegotiation;
    // there node's handshake-start hook also sees post-handshake messages, so it is left alone.)
    if (socket.getProtocol() === 'TLSv1.2') socket.disableRenegotiation();
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_TLS_RENEGOTIATION_DISABLED' || err.code === 'ERR_TLS_SESSION_ATTACK') {
        events.emit('connectionRefused', { reason: 'renegotiation' });
        log.warn({ peer, client, code: err.code }, 'connection closed: TLS renegotiation refused');
        socket.destroy();
        return;
      }
      log.debug({ peer, client, err: errorMessage(err) }, 'socket error');
    });
    /** The slot's verdict: undefined while a worker waits for its primary's answer. */
    let slot: boolean | undefined;
    let closed = false;
    socket.once('close', () => {
      closed = true;
      ctx.metrics.openConnections--;
      connections.delete(conn);
      if (slot === true) ctx.slots.give(client);
    });
    const admit = (granted: boolean) => {
      slot = granted;
      // Closed while the primary answered: the slot goes back at once.
      if (closed) {
        if (granted) ctx.slots.give(client);
        return;
      }
      if (granted) {
        conn.start();
        return;
      }
      events.emit('connectionRefused', { reason: 'per_client_limit' });
      log.warn({ peer, client, limit: config.maxConnectionsPerClient }, 'connection refused: per-client limit');
      refuse(socket, ErrorCodes.limit, `at most ${config.maxConnectionsPerClient} connections per client`);
    };
    // Until then the socket is not read: a HELLO already sent waits in its buffer.
    const taken = ctx.slots.take(client);
    if (typeof taken === 'boolean') admit(taken);
    else void taken.then(admit);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new NetprobeError(ErrorCodes.config, `cannot listen on ${config.host}:${config.port}: ${err.message}`, { cause: err })),
    );
    if (shared === undefined) server.listen(config.port, config.host, () => resolve());
    else server.listen(shared, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  const reloadRevocations = async (generation?: number): Promise<RevocationSummary> => {
    const next = await loadRevocations(revocationFiles, material.ca);
    // New handshakes use the new CRL; tickets issued before cannot resume a session past it.
    server.setSecureContext(tlsOptions(material, config, next));
    server.setTicketKeys(
      tickets === undefined
        ? randomBytes(48)
        : deriveTicketKeys(material.key, { seed: tickets.seed, generation: generation ?? tickets.generation + 1 }),
    );
    revocations = next;
    let closed = 0;
    for (const [conn, id] of connections) {
      const by = revokedBy(next, id);
      if (by === undefined) continue;
      closed++;
      log.warn({ client: conn.client, reason: 'revoked', by, fingerprint256: id.fingerprint256 }, 'connection closed: certificate revoked');
      id.socket.destroy();
    }
    return {
      fingerprints: next.fingerprints.size,
      serials: next.serials.size,
      crlNextUpdate: next.crlNextUpdate?.toISOString() ?? null,
      closed,
    };
  };

  const close = async (deadlineMs: number): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const conn of connections.keys()) conn.closeWhenIdle();
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), deadlineMs).unref());
    const finished = await Promise.race([stopped.then(() => 'done' as const), deadline]);
    if (finished === 'deadline') {
      log.warn({ open: rawSockets.size }, 'shutdown deadline reached: closing remaining connections');
      for (const s of rawSockets) s.destroy();
      await stopped;
    }
  };

  return {
    port,
    server,
    get revocations() {
      return revocations;
    },
    get connections() {
      return connections.size;
    },
    reloadRevocations,
    close,
  };
}
