/**
 * Certificate revocation lists (RFC 5280 §5) of the project CA, in memory: issuing one (ECDSA
 * P-256, SHA-256, signed by the CA key) and reading one back, checking that the CA signed it.
 * No file I/O; `netprobe certs revoke` and the server's revocation check use these.
 */
import { createHash } from 'node:crypto';
// pki.ts loads reflect-metadata and sets node's WebCrypto as @peculiar/x509's provider first.
import './pki.js';
import * as x509 from '@peculiar/x509';
import { CertError, errorMessage } from '../errors.js';
import type { Ca } from './pki.js';
import { normaliseSerial } from './serial.js';

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * A CRL past its nextUpdate makes OpenSSL refuse every client (CRL_HAS_EXPIRED): fail closed.
 * A year keeps a small private CA practical; `netprobe certs crl` re-signs it.
 */
export const DEFAULT_CRL_VALID_DAYS = 365;

export interface RevokedEntry {
  /** Serial number, hex (any case, leading zeros allowed). */
  serialNumber: string;
  revokedAt: Date;
}

export interface CrlInfo {
  /** Normalised serials (upper-case hex without leading zeros, as node's `serialNumber`). */
  serials: Set<string>;
  entries: RevokedEntry[];
  thisUpdate: Date;
  nextUpdate: Date | undefined;
}

export { normaliseSerial } from './serial.js';

/** SHA-256 of a certificate's DER, upper-case hex pairs joined by ':' (node's `fingerprint256`). */
export function fingerprint256(certPem: string | Buffer): string {
  const cert = new x509.X509Certificate(typeof certPem === 'string' ? certPem : certPem.toString('utf8'));
  const digest = createHash('sha256').update(Buffer.from(cert.rawData)).digest('hex').toUpperCase();
  return digest.match(/../g)?.join(':') ?? '';
}

/** Signs a CRL listing `entries`, valid from `now` for `validDays`. */
export async function createCrl(
  ca: Ca,
  entries: readonly RevokedEntry[],
  options: { now?: Date; validDays?: number } = {},
): Promise<string> {
  const now = options.now ?? new Date();
  const validDays = options.validDays ?? DEFAULT_CRL_VALID_DAYS;
  if (!Number.isInteger(validDays) || validDays < 1)
    throw new CertError(`invalid CRL validity ${validDays}: expected a whole number of days >= 1`);
  const caKeyId = ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subjectName,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + validDays * DAY_MS),
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: caKeyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(caKeyId)],
    entries: entries.map((e) => ({ serialNumber: e.serialNumber.toLowerCase(), revocationDate: e.revokedAt })),
  });
  // OpenSSL reads only the RFC 7468 label 'X509 CRL'.
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL')}\n`;
}

/**
 * Parses a PEM CRL and checks that one of the certificates in `caPem` (a bundle is allowed) issued
 * and signed it. `source` names the file in errors.
 */
export async function readCrl(crlPem: string | Buffer, caPem: string | Buffer, source = 'the CRL'): Promise<CrlInfo> {
  let crl: x509.X509Crl;
  try {
    crl = new x509.X509Crl(typeof crlPem === 'string' ? crlPem : crlPem.toString('utf8'));
  } catch (err) {
    throw new CertError(`cannot parse ${source} as a PEM certificate revocation list: ${errorMessage(err)}`, { cause: err });
  }
  let cas: x509.X509Certificate[];
  try {
    const text = typeof caPem === 'string' ? caPem : caPem.toString('utf8');
    cas = (text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? []).map((pem) => new x509.X509Certificate(pem));
  } catch (err) {
    throw new CertError(`cannot parse the CA certificate to check ${source}: ${errorMessage(err)}`, { cause: err });
  }
  let signed = false;
  for (const ca of cas) {
    if (ca.subject !== crl.issuer) continue;
    if (await crl.verify({ publicKey: ca }).catch(() => false)) {
      signed = true;
      break;
    }
  }
  if (!signed) throw new CertError(`${source} is not signed by the CA (issuer ${crl.issuer})`);
  const entries = crl.entries.map((e) => ({ serialNumber: normaliseSerial(e.serialNumber), revokedAt: e.revocationDate }));
  return { serials: new Set(entries.map((e) => e.serialNumber)), entries, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate };
}
