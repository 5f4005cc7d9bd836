/**
 * Helpers for the hostile tests: an on-disk certificate directory made by the project's own CA code
 * (so `netprobe certs revoke` works on it), extra certificates a test can forge, log capture and a
 * one-shot "does the server let this certificate in" probe.
 */
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { type CaPaths, type CertPaths, clientCertPaths, initCa, issueClientCert, readCa } from '../../src/tls/ca.js';
import { type Ca, type IssueCertOptions, issueCert } from '../../src/tls/pki.js';
import { WireClient } from '../helpers/wire.js';

export interface CertDir {
  dir: string;
  paths: CaPaths;
  ca: Ca;
  client(name: string): CertPaths;
  /** Issues a certificate from the project CA with any options (expired, wrong usage, …) into `name.crt`/`.key`. */
  issue(name: string, options: Omit<IssueCertOptions, 'commonName'> & { commonName?: string }): Promise<CertPaths>;
  cleanup(): Promise<void>;
}

export async function makeCertDir(names: readonly string[]): Promise<CertDir> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-sec-'));
  const paths = await initCa({ dir });
  for (const name of names) await issueClientCert({ dir, name });
  const ca = await readCa(dir);
  return {
    dir,
    paths,
    ca,
    client: (name) => clientCertPaths(dir, name),
    issue: async (name, options) => {
      const pem = await issueCert(ca, { commonName: name, ...options });
      const out = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
      await writeFile(out.cert, pem.certPem);
      await writeFile(out.key, pem.keyPem, { mode: 0o600 });
      return out;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A pino logger whose JSON lines land in `lines` (and, raw, in `text`). */
export function captureLogs(level = 'debug'): { lines: Record<string, unknown>[]; text: string[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        text.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      cb();
    },
  });
  return { lines, text, logger: pino({ level }, stream) };
}

export type Admission = { admitted: true } | { admitted: false; code: string | undefined };

/**
 * Connects with a certificate and sends HELLO. Admitted means WELCOME came back; otherwise the
 * code of the client-side error (a TLS alert such as ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED, or
 * undefined for a plain close after the handshake).
 */
export async function tryHello(port: number, paths: { ca: string; cert?: string; key?: string }): Promise<Admission> {
  let c: WireClient;
  try {
    c = await WireClient.connect(port, paths);
  } catch (err) {
    return { admitted: false, code: (err as { code?: string }).code };
  }
  try {
    const reply = await c.hello();
    if (reply?.type === 'WELCOME') return { admitted: true };
    await c.closed();
    return { admitted: false, code: (c.error as { code?: string } | undefined)?.code };
  } finally {
    c.close();
  }
}

/**
 * Resolves a command on PATH, or undefined with a printed reason. Under CI=true a missing tool is a
 * failure instead: .ci/run installs it.
 */
export async function requireTool(command: string, why: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const path = `${dir}/${command}`;
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  const reason = `${command} is not on PATH; ${why}`;
  if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`);
  console.log(`skipping: ${reason}`);
  return undefined;
}
