/**
 * Start-up checks of TLS material, so a mistake is one clear message before any socket exists
 * (OpenSSL would accept a private key as `--ca` and then refuse every peer):
 * - `--ca` must hold at least one certificate, each of them a CA certificate;
 * - `--cert` must be valid now (not expired, not before its start date);
 * - `--key` must be the private key of `--cert`.
 * `uncoveredNames` lists the names a certificate does not cover (a warning for the server's
 * --host/--server-id: clients reaching it by such a name would refuse it).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { CertError } from '../errors.js';
import type { TlsMaterial, TlsMaterialPaths } from './material.js';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificates(pem: Buffer, path: string, what: string): X509Certificate[] {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new CertError(`${what} ${path} holds a certificate that cannot be parsed: ${(err as Error).message}`, { cause: err });
    }
  });
}

const subjectName = (cert: X509Certificate) => cert.subject.replace(/\n/g, ', ');
const day = (text: string) => new Date(text).toISOString().slice(0, 10);

/** Throws a CertError naming the file and the fix; `nowMs` is the clock the validity is judged by. */
export function checkTlsMaterial(material: TlsMaterial, paths: TlsMaterialPaths, nowMs: number = Date.now()): void {
  const cas = certificates(material.ca, paths.ca, '--ca');
  if (cas.length === 0) {
    const hint = /PRIVATE KEY-----/.test(material.ca.toString('latin1')) ? ' (it holds a private key)' : '';
    throw new CertError(`--ca ${paths.ca} holds no certificate${hint}: give the CA certificate, e.g. certs/ca.crt`);
  }
  const notCa = cas.find((c) => !c.ca);
  if (notCa) {
    throw new CertError(
      `--ca ${paths.ca} is not a CA certificate (it is the certificate of ${subjectName(notCa)}): give the CA certificate, e.g. certs/ca.crt`,
    );
  }

  const [cert] = certificates(material.cert, paths.cert, '--cert');
  if (cert === undefined) {
    const hint = /PRIVATE KEY-----/.test(material.cert.toString('latin1')) ? ' (it holds a private key)' : '';
    throw new CertError(`--cert ${paths.cert} holds no certificate${hint}`);
  }
  if (Date.parse(cert.validTo) < nowMs)
    throw new CertError(`--cert ${paths.cert} expired on ${day(cert.validTo)}: issue a new certificate`);
  if (Date.parse(cert.validFrom) > nowMs) {
    throw new CertError(`--cert ${paths.cert} is not valid before ${day(cert.validFrom)}: check this machine's clock or the certificate`);
  }

  let matches = false;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(material.key));
  } catch (err) {
    throw new CertError(`--key ${paths.key} is not a usable private key: ${(err as Error).message}`, { cause: err });
  }
  if (!matches) throw new CertError(`--key ${paths.key} is not the private key of --cert ${paths.cert}`);
}

/** The names (host names or IP addresses) the PEM certificate does not cover; wildcard addresses are skipped. */
export function uncoveredNames(certPem: Buffer, names: readonly string[]): string[] {
  const [block] = certPem.toString('latin1').match(PEM_CERT) ?? [];
  if (block === undefined) return [];
  const cert = new X509Certificate(block);
  return names.filter((name) => {
    if (name === '' || name === '0.0.0.0' || name === '::') return false;
    return isIP(name) === 0 ? cert.checkHost(name) === undefined : cert.checkIP(name) === undefined;
  });
}
