import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert } from '../../src/tls/pki.js';

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Paths of each client's cert and key. */
  clients: Record<string, { cert: string; key: string }>;
  /** A client certificate from a different CA (must be refused). */
  stranger: { cert: string; key: string; ca: string };
  cleanup(): Promise<void>;
}

/** Throwaway CA, server certificate and client certificates in a temp folder. */
export async function makePki(clientNames: readonly string[] = ['alice', 'bob']): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-pki-'));
  const ca = await createCa();
  const server = await issueCert(ca, {
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'server.crt'), server.certPem);
  await writeFile(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
  await mkdir(join(dir, 'clients'));
  const clients: TestPki['clients'] = {};
  for (const name of clientNames) {
    const c = await issueCert(ca, { commonName: name, usage: 'client' });
    clients[name] = { cert: join(dir, 'clients', `${name}.crt`), key: join(dir, 'clients', `${name}.key`) };
    await writeFile(clients[name].cert, c.certPem);
    await writeFile(clients[name].key, c.keyPem, { mode: 0o600 });
  }
  const otherCa = await createCa({ commonName: 'someone else' });
  const other = await issueCert(otherCa, { commonName: 'alice', usage: 'client' });
  const stranger = { cert: join(dir, 'stranger.crt'), key: join(dir, 'stranger.key'), ca: join(dir, 'other-ca.crt') };
  await writeFile(stranger.cert, other.certPem);
  await writeFile(stranger.key, other.keyPem, { mode: 0o600 });
  await writeFile(stranger.ca, otherCa.certPem);
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clients,
    stranger,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
