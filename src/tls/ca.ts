/**
 * The on-disk CA used by `netprobe certs`. Layout of a certificate directory:
 *
 *   ca.crt, ca.key            self-signed CA (keys 0600, certificates 0644)
 *   server.crt, server.key    server certificate (serverAuth; localhost, 127.0.0.1, ::1 + --host)
 *   clients/NAME.crt, .key    client certificates (clientAuth, CN = NAME)
 *   crl.pem                   revocation list signed by the CA (`certs revoke`, `certs crl`)
 *
 * Certificates are made in memory by ./pki.ts; this module only reads and writes files.
 */
import { join } from 'node:path';
import { CertError } from '../errors.js';
import { type RevokedEntry, createCrl, fingerprint256, normaliseSerial, readCrl } from './crl.js';
import { CERT_FILE_MODE, KEY_FILE_MODE, ensureDir, readTextIfExists, writePemFile, writePemFiles } from './files.js';
import { assertClientName, serverAltNames } from './names.js';
import { DEFAULT_CA_VALID_DAYS, DEFAULT_LEAF_VALID_DAYS, certInfo, createCa, issueCert, loadCa } from './pki.js';
import type { Ca } from './pki.js';

export { CLOCK_SKEW_MS, DEFAULT_CA_VALID_DAYS, DEFAULT_LEAF_VALID_DAYS, certInfo, createCa, issueCert, loadCa } from './pki.js';
export type { Ca, CertInfo, CertKeyPem, CertUsage, CreateCaOptions, IssueCertOptions } from './pki.js';
export { CLIENT_NAME_PATTERN, assertClientName, serverAltNames } from './names.js';

/** CN of the server certificate when no --host is given. */
export const DEFAULT_SERVER_NAME = 'netprobe-server';

export interface CaPaths {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

export interface CertPaths {
  cert: string;
  key: string;
}

export interface InitCaOptions {
  dir: string;
  /** Extra server names: IP literals become IP SANs, anything else DNS SANs. The first is the CN. */
  hosts?: readonly string[];
  force?: boolean;
  /** Lifetime of the server certificate; the CA gets `caValidDays`. */
  validDays?: number;
  caValidDays?: number;
  now?: Date;
}

export interface IssueClientCertOptions {
  dir: string;
  name: string;
  force?: boolean;
  validDays?: number;
  now?: Date;
}

export function caPaths(dir: string): CaPaths {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  };
}

export function clientCertPaths(dir: string, name: string): CertPaths {
  assertClientName(name);
  const clientsDir = join(dir, 'clients');
  return { cert: join(clientsDir, `${name}.crt`), key: join(clientsDir, `${name}.key`) };
}

/** Creates the CA and the server certificate in `dir`. Refuses to overwrite unless `force`. */
export async function initCa(options: InitCaOptions): Promise<CaPaths> {
  const hosts = options.hosts ?? [];
  const altNames = serverAltNames(hosts);
  const paths = caPaths(options.dir);
  const force = options.force ?? false;
  const now = options.now ?? new Date();

  const ca = await createCa({ validDays: options.caValidDays ?? DEFAULT_CA_VALID_DAYS, now });
  const server = await issueCert(ca, {
    commonName: hosts[0]?.trim() || DEFAULT_SERVER_NAME,
    usage: 'server',
    ...altNames,
    validDays: options.validDays ?? DEFAULT_LEAF_VALID_DAYS,
    now,
  });

  await ensureDir(options.dir);
  await writePemFiles(
    [
      { path: paths.caKey, contents: ca.keyPem, mode: KEY_FILE_MODE },
      { path: paths.caCert, contents: ca.certPem, mode: CERT_FILE_MODE },
      { path: paths.serverKey, contents: server.keyPem, mode: KEY_FILE_MODE },
      { path: paths.serverCert, contents: server.certPem, mode: CERT_FILE_MODE },
    ],
    force,
  );
  return paths;
}

/** Loads the CA of `dir`; a missing ca.crt or ca.key is a CertError telling how to create one. */
export async function readCa(dir: string): Promise<Ca> {
  const paths = caPaths(dir);
  const certPem = await readTextIfExists(paths.caCert);
  const keyPem = await readTextIfExists(paths.caKey);
  if (certPem === undefined || keyPem === undefined) {
    const missing = certPem === undefined ? paths.caCert : paths.caKey;
    throw new CertError(`no CA in ${dir} (${missing} is missing): run netprobe certs init --dir ${dir} first`);
  }
  return loadCa({ certPem, keyPem }, `${paths.caCert} and ${paths.caKey}`);
}

/** Issues `dir/clients/NAME.crt` and `.key` from the CA in `dir`. Refuses to overwrite unless `force`. */
export async function issueClientCert(options: IssueClientCertOptions): Promise<CertPaths> {
  const paths = clientCertPaths(options.dir, options.name);
  const ca = await readCa(options.dir);
  const client = await issueCert(ca, {
    commonName: options.name,
    usage: 'client',
    validDays: options.validDays ?? DEFAULT_LEAF_VALID_DAYS,
    now: options.now ?? new Date(),
  });
  await ensureDir(join(options.dir, 'clients'));
  await writePemFiles(
    [
      { path: paths.key, contents: client.keyPem, mode: KEY_FILE_MODE },
      { path: paths.cert, contents: client.certPem, mode: CERT_FILE_MODE },
    ],
    options.force ?? false,
  );
  return paths;
}

export function crlPath(dir: string): string {
  return join(dir, 'crl.pem');
}

export interface CrlOptions {
  dir: string;
  validDays?: number;
  now?: Date;
}

export interface RevokeResult {
  crl: string;
  serialNumber: string;
  fingerprint256: string;
  /** Serials listed in the new CRL. */
  revoked: number;
}

/** The entries of `dir/crl.pem` (checked against the CA), or none when there is no CRL yet. */
async function currentEntries(dir: string, ca: Ca): Promise<RevokedEntry[]> {
  const path = crlPath(dir);
  const pem = await readTextIfExists(path);
  return pem === undefined ? [] : (await readCrl(pem, ca.certPem, path)).entries;
}

/** (Re-)signs `dir/crl.pem` with the serials it already lists: creates an empty one, or renews nextUpdate. */
export async function refreshCrl(options: CrlOptions): Promise<{ crl: string; revoked: number }> {
  const ca = await readCa(options.dir);
  const entries = await currentEntries(options.dir, ca);
  const pem = await createCrl(ca, entries, { now: options.now, validDays: options.validDays });
  await writePemFile({ path: crlPath(options.dir), contents: pem, mode: CERT_FILE_MODE }, true);
  return { crl: crlPath(options.dir), revoked: entries.length };
}

/**
 * Adds `clients/NAME.crt` to `dir/crl.pem` (creating it) and re-signs the list. A server started
 * with `--crl` picks it up on SIGHUP. Revoking twice is harmless.
 */
export async function revokeClientCert(options: CrlOptions & { name: string }): Promise<RevokeResult> {
  const paths = clientCertPaths(options.dir, options.name);
  const certPem = await readTextIfExists(paths.cert);
  if (certPem === undefined) throw new CertError(`no certificate for client '${options.name}' (${paths.cert} is missing)`);
  const ca = await readCa(options.dir);
  const info = certInfo(certPem);
  const serialNumber = normaliseSerial(info.serialNumber);
  const entries = await currentEntries(options.dir, ca);
  if (!entries.some((e) => e.serialNumber === serialNumber)) entries.push({ serialNumber, revokedAt: options.now ?? new Date() });
  const pem = await createCrl(ca, entries, { now: options.now, validDays: options.validDays });
  await writePemFile({ path: crlPath(options.dir), contents: pem, mode: CERT_FILE_MODE }, true);
  return { crl: crlPath(options.dir), serialNumber, fingerprint256: fingerprint256(certPem), revoked: entries.length };
}
