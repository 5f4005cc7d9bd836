import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Result } from '../../src/protocol/result.js';
import { type ServerCommandInput, type ServerWithDashboard, startServerWithDashboard } from '../../src/cli/serve.js';
import type { Shaper } from '../../src/server/transfer.js';
import type { WebEndpoint } from '../../src/web/index.js';
import { makePki, type TestPki } from '../helpers/pki.js';
import { WireClient, sampleResult } from '../helpers/wire.js';

export const run = promisify(execFile);
export const ROOT = new URL('../../', import.meta.url).pathname;

export interface WebFixture {
  pki: TestPki;
  server: ServerWithDashboard;
  web: WebEndpoint;
  /** Connects as a client, says HELLO, downloads 64KiB and REPORTs one result; resolves on the ACK. */
  measure(client: string, overrides?: Partial<Result>): Promise<Result>;
  /** Connects as a client and REPORTs `results` in one batch; resolves on the ACK. */
  report(client: string, results: Result[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Paces one client's transfers to `mbps` (the server's shaper hook), so a long duration-mode
 * transfer in a test fills neither the test's memory nor the CPU.
 */
export function pacedShaper(mbps: number): Shaper {
  const bytesPerMs = mbps * 125;
  let freeAtMs = 0;
  return {
    reserve(bytes) {
      const now = performance.now();
      const start = Math.max(now, freeAtMs);
      freeAtMs = start + bytes / bytesPerMs;
      return start - now;
    },
  };
}

/** Transfers to each client are paced to this rate. */
const TEST_RATE_MBPS = 200;

/** A real server with the web endpoint on 127.0.0.1, port 0, and certificates for `clients`. */
export async function startWebFixture(
  clients: readonly string[] = ['alice', 'bob'],
  config: Partial<ServerCommandInput> = {},
  deps: { assetsDir?: string } = {},
): Promise<WebFixture> {
  const pki = await makePki(clients);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-web-'));
  const shapers = new Map<string, Shaper>();
  const server = await startServerWithDashboard(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: join(work, 'results.db'),
      builtinFiles: ['64KiB'],
      statsIntervalMs: 0,
      http: '127.0.0.1:0',
      ...config,
    },
    {
      webAssetsDir: deps.assetsDir,
      shaperFor: (client) => shapers.get(client) ?? shapers.set(client, pacedShaper(TEST_RATE_MBPS)).get(client),
    },
  );
  assert.ok(server.web, 'the web endpoint started');
  const web = server.web;
  const measure = async (client: string, overrides: Partial<Result> = {}) => {
    const c = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients[client]! });
    try {
      assert.equal((await c.hello())?.type, 'WELCOME');
      const { reply, bytes } = await c.download('64KiB');
      assert.equal(reply?.type, 'FILE_META');
      const result = sampleResult({ client, bytes, server: `127.0.0.1:${server.port}`, file: '64KiB', ...overrides });
      c.send({ type: 'REPORT', results: [result] });
      const ack = await c.next();
      assert.equal(ack?.type, 'ACK', JSON.stringify(ack));
      return result;
    } finally {
      c.close();
    }
  };
  const report = async (client: string, results: Result[]) => {
    const c = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients[client]! });
    try {
      assert.equal((await c.hello())?.type, 'WELCOME');
      c.send({ type: 'REPORT', results });
      const ack = await c.next();
      assert.equal(ack?.type, 'ACK', JSON.stringify(ack));
    } finally {
      c.close();
    }
  };
  return {
    pki,
    server,
    web,
    measure,
    report,
    close: async () => {
      await server.close(1000);
      await rm(work, { recursive: true, force: true });
      await pki.cleanup();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request, no redirects followed; `tls` adds a CA and optionally a client certificate. */
export async function request(
  url: string,
  options: { headers?: Record<string, string>; tls?: { ca: string; cert?: string; key?: string } } = {},
): Promise<Reply> {
  const tlsOptions = options.tls
    ? {
        ca: await readFile(options.tls.ca),
        ...(options.tls.cert ? { cert: await readFile(options.tls.cert) } : {}),
        ...(options.tls.key ? { key: await readFile(options.tls.key) } : {}),
      }
    : {};
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: options.headers ?? {}, agent: false, ...tlsOptions }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * A system tool the test needs: its path, or undefined with the reason printed. Under CI
 * (CI=true) a missing tool fails the test instead, so a green CI run never hides a skipped check.
 */
export async function requireTool(path: string, why: string): Promise<string | undefined> {
  try {
    await run(path, ['--version']);
    return path;
  } catch (err) {
    const reason = `${path} is not available (${(err as NodeJS.ErrnoException).code ?? 'error'}); ${why}`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure (.ci/run installs it)`);
    console.log(`skipping: ${reason}`);
    return undefined;
  }
}

/** Builds the front end into a fresh folder with the project's build script. */
export async function buildAssets(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-assets-'));
  await run(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs'), '--outdir', dir]);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs `promtool check metrics` on `text` (stdin); resolves with its exit status and output. */
export function promtoolCheck(promtool: string, text: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
    child.stdin.end(text);
  });
}
