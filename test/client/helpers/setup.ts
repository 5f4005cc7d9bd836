import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerConfigInput } from '../../../src/server/config.js';
import { type RunningServer, startServer } from '../../../src/server/server.js';
import { type TlsMaterial, loadTlsMaterial } from '../../../src/tls/options.js';
import { makePki, type TestPki } from '../../helpers/pki.js';

export interface ClientFixture {
  pki: TestPki;
  /** alice's client material. */
  client: TlsMaterial;
  server: TlsMaterial;
  /** Material trusting another CA (the real server must be refused). */
  strangerCa: TlsMaterial;
  material(name: string): Promise<TlsMaterial>;
  tempDir(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function clientFixture(names: readonly string[] = ['alice', 'bob']): Promise<ClientFixture> {
  const pki = await makePki(names);
  const dirs: string[] = [];
  const material = (name: string) => loadTlsMaterial({ ca: pki.ca, ...pki.clients[name]! });
  return {
    pki,
    client: await material(names[0]!),
    server: await loadTlsMaterial({ ca: pki.ca, cert: pki.serverCert, key: pki.serverKey }),
    strangerCa: await loadTlsMaterial({ ca: pki.stranger.ca, ...pki.clients[names[0]!]! }),
    material,
    tempDir: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'netprobe-client-'));
      dirs.push(dir);
      return dir;
    },
    cleanup: async () => {
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
      await pki.cleanup();
    },
  };
}

/**
 * A real server on 127.0.0.1 (a free port) with the fixture's certificates, a fresh SQLite store and
 * the built-in file 1MiB (`extra` overrides any of it); the caller closes it.
 */
export async function startFixtureServer(fx: ClientFixture, extra: Partial<ServerConfigInput> = {}): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    ca: fx.pki.ca,
    cert: fx.pki.serverCert,
    key: fx.pki.serverKey,
    store: join(await fx.tempDir(), 'results.db'),
    builtinFiles: ['1MiB'],
    statsIntervalMs: 0,
    logLevel: 'silent',
    ...extra,
  });
}

/** startFixtureServer, closed when the test ends. */
export async function fixtureServer(
  fx: ClientFixture,
  t: { after(fn: () => Promise<void>): void },
  extra: Partial<ServerConfigInput> = {},
): Promise<RunningServer> {
  const s = await startFixtureServer(fx, extra);
  t.after(() => s.close(1000));
  return s;
}

export { captureLogs } from '../../helpers/logs.js';
