/**
 * Revoked client certificates: a deny list of SHA-256 fingerprints and/or a CRL signed by the CA.
 * The CRL is also handed to OpenSSL (refusal during the handshake); both are checked again for
 * every connection after the handshake, so a resumed TLS session or a connection opened before a
 * reload cannot outlive a revocation.
 */
import { readFile } from 'node:fs/promises';
import type { PeerCertificate } from 'node:tls';
import { ConfigError, errorCode, errorMessage } from '../errors.js';
import { normaliseSerial } from '../tls/serial.js';

export interface RevocationFiles {
  /** File of SHA-256 certificate fingerprints, one per line; '#' starts a comment. */
  denyList?: string | undefined;
  /** PEM CRL signed by the CA. */
  crl?: string | undefined;
}

export interface Revocations {
  fingerprints: ReadonlySet<string>;
  serials: ReadonlySet<string>;
  /** The CRL file's contents, for the TLS context. */
  crlPem: Buffer | undefined;
  crlNextUpdate: Date | undefined;
}

export const NO_REVOCATIONS: Revocations = { fingerprints: new Set(), serials: new Set(), crlPem: undefined, crlNextUpdate: undefined };

/** 64 hex digits, with or without ':' between pairs; `openssl x509 -fingerprint -sha256` output is accepted too. */
const FINGERPRINT = /^(?:sha-?256 fingerprint=)?((?:[0-9a-f]{2}:?){31}[0-9a-f]{2})$/i;

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${path}: ${errorCode(err) === 'ENOENT' ? 'file not found' : errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** Parses a deny list into node's `fingerprint256` form (upper-case pairs joined by ':'). */
export function parseDenyList(text: string, source: string): Set<string> {
  const out = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const m = FINGERPRINT.exec(line);
    if (!m)
      throw new ConfigError(`${source}:${index + 1}: '${line.slice(0, 80)}' is not a SHA-256 certificate fingerprint (64 hex digits)`);
    out.add(m[1]!.replace(/:/g, '').toUpperCase().match(/../g)!.join(':'));
  });
  return out;
}

/** Reads the configured files; a missing, malformed or foreign (not signed by `caPem`) file is a ConfigError. */
export async function loadRevocations(files: RevocationFiles, caPem: Buffer): Promise<Revocations> {
  const fingerprints =
    files.denyList === undefined
      ? new Set<string>()
      : parseDenyList((await read(files.denyList, 'deny list')).toString('utf8'), files.denyList);
  if (files.crl === undefined) return { ...NO_REVOCATIONS, fingerprints };
  const crlPem = await read(files.crl, 'CRL');
  let info;
  try {
    // Loaded only when a CRL is configured: the X.509 library costs a server process ~0.4 s and ~20 MiB.
    const { readCrl } = await import('../tls/crl.js');
    info = await readCrl(crlPem, caPem, files.crl);
  } catch (err) {
    throw new ConfigError(errorMessage(err), { cause: err });
  }
  if (info.nextUpdate !== undefined && info.nextUpdate.getTime() <= Date.now()) {
    throw new ConfigError(
      `the CRL ${files.crl} expired at ${info.nextUpdate.toISOString()}: OpenSSL would refuse every client; re-sign it (netprobe certs crl --dir DIR)`,
    );
  }
  return { fingerprints, serials: info.serials, crlPem, crlNextUpdate: info.nextUpdate };
}

/** Why `cert` is revoked ('deny list' or 'CRL'), or undefined. */
export function revokedBy(
  revocations: Revocations,
  cert: Pick<PeerCertificate, 'fingerprint256' | 'serialNumber'>,
): 'deny list' | 'CRL' | undefined {
  if (revocations.fingerprints.has(cert.fingerprint256)) return 'deny list';
  if (revocations.serials.size > 0 && revocations.serials.has(normaliseSerial(cert.serialNumber))) return 'CRL';
  return undefined;
}
