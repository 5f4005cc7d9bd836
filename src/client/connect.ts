/**
 * The client's one place for socket and TLS setup: DNS lookup, TCP connect and TLS handshake,
 * each timed on the monotonic clock and bounded by its own timeout, with every failure normalised
 * into a ConnectionError whose code names the phase that failed.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls, { type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { ConnectionError, ErrorCodes, errorCode, errorMessage } from '../errors.js';
import { type TlsMaterial, type TlsMinVersion, clientTlsOptions } from '../tls/options.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';

export interface ConnectTimeouts {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
}

export const DEFAULT_CONNECT_TIMEOUTS: ConnectTimeouts = { dnsMs: 5_000, connectMs: 10_000, tlsMs: 10_000 };

/** Phase durations in ms; null until the phase completed (dnsMs stays null for an IP literal). */
export interface ConnectTimings {
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
}

export type Lookup = (host: string) => Promise<{ address: string; family: number }>;

export interface ConnectOptions {
  endpoint: Endpoint;
  tls: TlsMaterial;
  minVersion?: TlsMinVersion | undefined;
  timeouts?: Partial<ConnectTimeouts> | undefined;
  /** Written as each phase completes, so a failed attempt still reports the phases it finished. */
  timings?: ConnectTimings | undefined;
  /** Name resolution (default: the OS resolver through dns.lookup, as other programs see it). */
  lookup?: Lookup | undefined;
  /** TLS sessions to resume from and to keep the server's new tickets in; none: every handshake is a full one. */
  sessions?: TlsSessions | undefined;
  /** Offer no session this time (a full handshake), but keep the ticket the server sends. */
  fullHandshake?: boolean | undefined;
}

/** A scheduled client's measured connection makes a full handshake every this many runs (`--full-handshake-every`). */
export const DEFAULT_FULL_HANDSHAKE_EVERY = 10;

/**
 * The TLS sessions (TLS 1.3 tickets) a client keeps, one per server and minimum version: the latest
 * ticket each server sent. A connection that offers one resumes the session (an abbreviated
 * handshake: no certificates sent or verified, so a fraction of a full handshake's CPU on both
 * sides); the server still checks revocation, and a ticket it no longer accepts (restart, rotated
 * ticket keys, revocation reload) just means a full handshake. A scheduled client also keeps them
 * in its outbox between runs (outbox.ts `ClientState`).
 */
export class TlsSessions {
  private readonly byServer: Map<string, Buffer>;
  /** Servers whose ticket arrived since the last takeNew(). */
  private readonly arrived = new Set<string>();

  constructor(initial: ReadonlyMap<string, Buffer> = new Map()) {
    this.byServer = new Map(initial);
  }

  static key(endpoint: Endpoint, minVersion: TlsMinVersion | undefined): string {
    return `${formatEndpoint(endpoint)}|${minVersion ?? 'default'}`;
  }

  get(key: string): Buffer | undefined {
    return this.byServer.get(key);
  }

  set(key: string, session: Buffer): void {
    this.byServer.set(key, session);
    this.arrived.add(key);
  }

  /** The tickets that arrived since the last call (to be kept; the others are kept already). */
  takeNew(): Map<string, Buffer> {
    const fresh = new Map([...this.arrived].map((key) => [key, this.byServer.get(key)!] as const));
    this.arrived.clear();
    return fresh;
  }
}

/**
 * Where a connection's decrypted bytes go. The chunk lives in a buffer reused for the next read
 * (node's `onread`), so it must be consumed, or copied, before `deliver` returns. Chunks that
 * arrive before a reader is attached are kept (copied) for it.
 */
export class ChunkReader {
  private reader: ((chunk: Buffer) => void) | undefined;
  private early: Buffer[] = [];

  attach(reader: (chunk: Buffer) => void): void {
    this.reader = reader;
    const early = this.early;
    this.early = [];
    for (const chunk of early) reader(chunk);
  }

  deliver(chunk: Buffer): void {
    if (this.reader !== undefined) this.reader(chunk);
    else this.early.push(Buffer.from(chunk));
  }
}

/**
 * One read buffer for every client connection of the process: node decrypts a TLS record into it
 * and calls back at once, on the one JavaScript thread, so no two reads can overlap in it. Reading
 * this way instead of through 'data' events saves an allocation and the stream machinery per 16 KiB
 * record: about a third of the client's CPU per GiB (docs/profiling.md).
 */
const READ_BUFFER = Buffer.alloc(64 * 1024);

export interface Connected {
  socket: TLSSocket;
  /** The connection's incoming bytes (the socket emits no 'data' events). */
  reader: ChunkReader;
  /** The address the TCP connection went to. */
  address: string;
  timings: { dnsMs: number | null; connectMs: number; tlsMs: number };
  /** The handshake resumed a session (`sessions` given and the server took the ticket). */
  tlsResumed: boolean;
  tlsVersion: string | null;
  cipher: string | null;
}

/** Certificate verification failures (ours of the server's certificate, or the server's alert about ours). */
const UNAUTHORIZED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_PURPOSE',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const UNAUTHORIZED_ALERT = /^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_|UNKNOWN_CA|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE)/;
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA', 'ESERVFAIL']);
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED', 'ERR_SOCKET_CLOSED']);

export type Phase = 'dns' | 'connect' | 'tls' | 'session';

/**
 * Maps any socket-level error to a ConnectionError with a stable code. Verification failures are
 * NETPROBE_TLS_UNAUTHORIZED in every phase: with TLS 1.3 the server's verdict on our certificate
 * arrives after our handshake completed, as an alert on the first read.
 */
export function normaliseSocketError(err: unknown, endpoint: Endpoint, phase: Phase): ConnectionError {
  if (err instanceof ConnectionError) return err;
  const code = errorCode(err);
  const where = formatEndpoint(endpoint);
  const reason = `${errorMessage(err)}${code === ErrorCodes.internal ? '' : ` (${code})`}`;
  if (UNAUTHORIZED_CODES.has(code) || UNAUTHORIZED_ALERT.test(code)) {
    return new ConnectionError(ErrorCodes.tlsUnauthorized, `TLS authentication with ${where} failed: ${reason}`, { cause: err });
  }
  if (DNS_CODES.has(code)) {
    return new ConnectionError(ErrorCodes.dns, `cannot resolve ${endpoint.host}: ${reason}`, { cause: err });
  }
  if (code === 'ECONNREFUSED') {
    return new ConnectionError(ErrorCodes.connectRefused, `connection to ${where} refused`, { cause: err });
  }
  if (code === 'ETIMEDOUT' && phase === 'connect') {
    return new ConnectionError(ErrorCodes.connectTimeout, `connecting to ${where} timed out (OS timeout)`, { cause: err });
  }
  if (phase === 'connect') {
    return new ConnectionError(ErrorCodes.connect, `cannot connect to ${where}: ${reason}`, { cause: err });
  }
  if (phase === 'tls') {
    return new ConnectionError(ErrorCodes.tlsHandshake, `TLS handshake with ${where} failed: ${reason}`, { cause: err });
  }
  if (CLOSED_CODES.has(code)) {
    return new ConnectionError(ErrorCodes.closed, `connection to ${where} closed: ${reason}`, { cause: err });
  }
  if (code === 'ETIMEDOUT') return new ConnectionError(ErrorCodes.timeout, `connection to ${where} timed out: ${reason}`, { cause: err });
  return new ConnectionError(ErrorCodes.connect, `connection to ${where} failed: ${reason}`, { cause: err });
}

/** Resolves on `event`; rejects on 'error', 'close' or the timeout, destroying `socket`. */
function waitFor(
  socket: net.Socket,
  event: 'connect' | 'secureConnect',
  timeoutMs: number,
  onTimeout: () => ConnectionError,
  onError: (err: unknown) => ConnectionError,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(onTimeout());
    }, timeoutMs);
    const onEvent = () => {
      cleanup();
      resolve();
    };
    const onFail = (err: unknown) => {
      cleanup();
      socket.destroy();
      reject(onError(err));
    };
    const onClose = () => onFail(Object.assign(new Error('socket closed during setup'), { code: 'ECONNRESET' }));
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off('error', onFail);
      socket.off('close', onClose);
    };
    socket.once(event, onEvent);
    socket.once('error', onFail);
    socket.once('close', onClose);
  });
}

async function resolve(endpoint: Endpoint, timeoutMs: number, lookup: Lookup): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ConnectionError(ErrorCodes.dns, `resolving ${endpoint.host} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    const { address } = await Promise.race([lookup(endpoint.host), timeout]);
    return address;
  } catch (err) {
    throw normaliseSocketError(err, endpoint, 'dns');
  } finally {
    clearTimeout(timer);
  }
}

const defaultLookup: Lookup = (host) => dnsLookup(host);

/**
 * One SecureContext per TLS material and minimum version, reused by every connection made with
 * them: building one parses the CA, certificate and key (~1.1 ms of CPU, 40 % of what a client
 * connection cost here). Only the context is shared, not TLS sessions: node resumes a session
 * only when given one (`sessions`, see TlsSessions), and the result says whether it did.
 */
const secureContexts = new WeakMap<TlsMaterial, Map<string, SecureContext>>();

function secureContextFor(material: TlsMaterial, minVersion: TlsMinVersion | undefined, options: ConnectionOptions): SecureContext {
  let byVersion = secureContexts.get(material);
  if (byVersion === undefined) secureContexts.set(material, (byVersion = new Map()));
  const key = minVersion ?? 'default';
  let context = byVersion.get(key);
  if (context === undefined) byVersion.set(key, (context = tls.createSecureContext(options)));
  return context;
}

/** DNS (unless `host` is an IP literal), TCP connect, TLS handshake; no application data has been read yet. */
export async function connectTls(options: ConnectOptions): Promise<Connected> {
  const { endpoint } = options;
  const timeouts = { ...DEFAULT_CONNECT_TIMEOUTS, ...options.timeouts };
  const timings = options.timings ?? { dnsMs: null, connectMs: null, tlsMs: null };
  const where = formatEndpoint(endpoint);

  let address = endpoint.host;
  if (net.isIP(endpoint.host) === 0) {
    const t = performance.now();
    address = await resolve(endpoint, timeouts.dnsMs, options.lookup ?? defaultLookup);
    timings.dnsMs = performance.now() - t;
  }

  // Before any socket exists: unusable material (caught by loadTlsMaterial normally) leaks nothing.
  const tlsOptions = clientTlsOptions(options.tls, { host: endpoint.host, port: endpoint.port, minVersion: options.minVersion });
  let secureContext: SecureContext;
  try {
    secureContext = secureContextFor(options.tls, options.minVersion, tlsOptions);
  } catch (err) {
    throw normaliseSocketError(err, endpoint, 'tls');
  }

  // One socket for TCP and TLS (node's `onread` needs a TLS socket that makes its own connection);
  // the TCP connect ends at 'connect', where node starts the handshake.
  const reader = new ChunkReader();
  const tConnect = performance.now();
  // node's tls.connect passes `onread` on to its socket (its typings do not list it).
  const sessionKey = TlsSessions.key(endpoint, options.minVersion);
  const offered = options.fullHandshake ? undefined : options.sessions?.get(sessionKey);
  const connectOptions: ConnectionOptions & { onread: net.OnReadOpts } = {
    ...tlsOptions,
    secureContext,
    host: address,
    port: endpoint.port,
    ...(offered === undefined ? {} : { session: offered }),
    onread: {
      buffer: READ_BUFFER,
      callback: (bytes: number, buffer: Uint8Array) => {
        reader.deliver((buffer as Buffer).subarray(0, bytes));
        return true;
      },
    },
  };
  const socket = tls.connect(connectOptions);
  // TLS 1.3 tickets arrive after the handshake, with the server's first data; each replaces the last.
  const { sessions } = options;
  if (sessions !== undefined) socket.on('session', (session: Buffer) => sessions.set(sessionKey, session));
  await waitFor(
    socket,
    'connect',
    timeouts.connectMs,
    () => new ConnectionError(ErrorCodes.connectTimeout, `connecting to ${where} (${address}) timed out after ${timeouts.connectMs} ms`),
    (err) => normaliseSocketError(err, endpoint, 'connect'),
  );
  const tTls = performance.now();
  const connectMs = tTls - tConnect;
  timings.connectMs = connectMs;
  socket.setNoDelay(true);
  await waitFor(
    socket,
    'secureConnect',
    timeouts.tlsMs,
    () => new ConnectionError(ErrorCodes.tlsHandshake, `TLS handshake with ${where} timed out after ${timeouts.tlsMs} ms`),
    (err) => normaliseSocketError(err, endpoint, 'tls'),
  );
  const tlsMs = performance.now() - tTls;
  timings.tlsMs = tlsMs;
  return {
    socket,
    reader,
    address,
    timings: { dnsMs: timings.dnsMs, connectMs, tlsMs },
    tlsResumed: socket.isSessionReused(),
    tlsVersion: socket.getProtocol() ?? null,
    cipher: socket.getCipher()?.name ?? null,
  };
}
