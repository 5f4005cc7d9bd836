/**
 * The one place TLS options are built. Both sides use mutual TLS with the project CA:
 * `rejectUnauthorized` is always on, ALPN is `netprobe/1`, the minimum version defaults to TLS 1.3
 * and TLS 1.2 (when allowed) is limited to ECDHE key exchange with AEAD ciphers.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import { CertError, UsageError, errorCode, errorMessage } from '../errors.js';
import { ALPN_PROTOCOL } from '../protocol/frame.js';
import { checkTlsMaterial } from './check.js';
import type { TlsMaterial, TlsMaterialPaths } from './material.js';

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export const DEFAULT_TLS_MIN_VERSION: TlsMinVersion = 'TLSv1.3';

/** TLS 1.3 suites (all AEAD), then the TLS 1.2 ECDHE + AEAD suites for ECDSA and RSA certificates. */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * Key exchange groups a server accepts: elliptic curves only (OpenSSL's default list would also
 * take the finite-field ffdhe2048 group, 112-bit strength).
 */
export const TLS_GROUPS = 'X25519:P-256:P-384';

/** A server drops a connection whose handshake has not finished after this long. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * How long a TLS session (a client's ticket) can be resumed after the server issued it. node's
 * default is 5 minutes, nginx's too: a client measuring every 5 minutes or less often would then
 * never resume. A day covers any schedule up to daily; what resumption skips is only the
 * certificate exchange: the server still checks every resumed connection's certificate for
 * revocation and expiry (server/listener.ts), and a revocation reload rotates the ticket keys.
 */
export const DEFAULT_TLS_SESSION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** RFC 8446 4.6.1: a ticket lives at most 7 days. */
export const MAX_TLS_SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

export type { TlsMaterial, TlsMaterialPaths } from './material.js';

export interface ServerTlsConfig {
  minVersion?: TlsMinVersion;
  /** Ask clients for a certificate (mutual TLS). Default true; clients without one are refused. */
  requestCert?: boolean;
  handshakeTimeoutMs?: number;
  /** How long an issued TLS session can be resumed (whole seconds for OpenSSL, rounded up). */
  sessionLifetimeMs?: number;
  /**
   * PEM revocation list(s) of the CA: OpenSSL then refuses a listed client certificate during the
   * handshake (CERT_REVOKED), and every client while the list is past its nextUpdate.
   */
  crl?: Buffer | undefined;
}

export interface ClientTlsConfig {
  host: string;
  port: number;
  minVersion?: TlsMinVersion;
}

async function readPem(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const reason = errorCode(err) === 'ENOENT' ? 'file not found' : errorMessage(err);
    throw new CertError(`cannot read ${what} ${path}: ${reason}`, { cause: err });
  }
}

/**
 * Reads CA, certificate and key files and checks them (check.ts: the CA file holds CA
 * certificates, the certificate is valid now, the key is its key) and that OpenSSL accepts them
 * together, so a bad file is reported by name before any socket is opened.
 */
export async function loadTlsMaterial(paths: TlsMaterialPaths): Promise<TlsMaterial> {
  const [ca, cert, key] = await Promise.all([
    readPem(paths.ca, 'CA certificate'),
    readPem(paths.cert, 'certificate'),
    readPem(paths.key, 'private key'),
  ]);
  checkTlsMaterial({ ca, cert, key }, paths);
  try {
    createSecureContext({ ca, cert, key });
  } catch (err) {
    throw new CertError(`unusable TLS material (ca ${paths.ca}, cert ${paths.cert}, key ${paths.key}): ${errorMessage(err)}`, {
      cause: err,
    });
  }
  return { ca, cert, key };
}

/** Options for `tls.createServer`: mutual TLS, only the project CA's client certificates accepted. */
/** The TLS session id context of every netprobe server process (at most 32 bytes). */
const SESSION_ID_CONTEXT = 'netprobe';

export function serverTlsOptions(material: TlsMaterial, config: ServerTlsConfig = {}): TlsOptions {
  const requestCert = config.requestCert ?? true;
  return {
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: config.minVersion ?? DEFAULT_TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    ecdhCurve: TLS_GROUPS,
    honorCipherOrder: true,
    requestCert,
    // Without requestCert there is no client certificate to reject.
    rejectUnauthorized: requestCert,
    ALPNProtocols: [ALPN_PROTOCOL],
    // The same in every process of a server (node's default hashes the process's command line,
    // which differs between the primary and a forked worker): OpenSSL resumes a session with a
    // client certificate only within the context that issued it.
    sessionIdContext: SESSION_ID_CONTEXT,
    handshakeTimeout: config.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    sessionTimeout: Math.ceil((config.sessionLifetimeMs ?? DEFAULT_TLS_SESSION_LIFETIME_MS) / 1000),
    ...(config.crl === undefined ? {} : { crl: config.crl }),
  };
}

/**
 * Options for `tls.connect`: verifies the server against the project CA and checks its name. SNI is
 * sent only for host names; for an IP literal node checks the certificate's IP SANs instead.
 */
export function clientTlsOptions(material: TlsMaterial, config: ClientTlsConfig): ConnectionOptions {
  return {
    host: config.host,
    port: config.port,
    ...(isIP(config.host) === 0 ? { servername: config.host } : {}),
    key: material.key,
    cert: material.cert,
    ca: material.ca,
    minVersion: config.minVersion ?? DEFAULT_TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    rejectUnauthorized: true,
    ALPNProtocols: [ALPN_PROTOCOL],
  };
}

/** Accepts 1.2, 1.3, TLSv1.2 or TLSv1.3; older versions are refused. */
export function parseTlsMinVersion(text: string): TlsMinVersion {
  switch (text.trim()) {
    case '1.2':
    case 'TLSv1.2':
      return 'TLSv1.2';
    case '1.3':
    case 'TLSv1.3':
      return 'TLSv1.3';
    default:
      throw new UsageError(`unsupported minimum TLS version '${text}': use 1.2 or 1.3 (TLS 1.0 and 1.1 are not allowed)`);
  }
}
