/**
 * No private key and no token in any log line: a server run (dashboard with a generated token, then
 * with a configured one) and a client run, driven through successes, refusals, hostile frames,
 * HTTP requests with right and wrong tokens and configuration errors; every line of stdout, stderr
 * and the log files is searched for the secrets.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FrameType } from '../../src/protocol/frame.js';
import { runCli, type CliProcess } from '../helpers/process.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { makePki } from '../helpers/pki.js';
import { type CertDir, makeCertDir, tryHello } from './helpers.js';

function get(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The base64 body lines of a PEM private key: any of them in a log would leak (part of) the key. */
async function keyFragments(path: string): Promise<string[]> {
  const pem = await readFile(path, 'utf8');
  assert.match(pem, /PRIVATE KEY/);
  return pem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l));
}

/** Lines that carry `secret`, from every source. */
function linesWith(sources: Record<string, string[]>, secret: string): string[] {
  return Object.entries(sources).flatMap(([name, lines]) => lines.filter((l) => l.includes(secret)).map((l) => `${name}: ${l}`));
}

async function exercise(port: number, certs: CertDir): Promise<void> {
  const paths = { ca: certs.paths.caCert, ...certs.client('alice') };
  // A good session: HELLO, download, REPORT.
  const c = await WireClient.connect(port, paths);
  await c.hello();
  await c.download('1KiB');
  c.send({ type: 'REPORT', results: [sampleResult()] });
  assert.equal((await c.next())?.type, 'ACK');
  c.close();
  // Refusals and hostile input.
  assert.equal((await tryHello(port, { ca: certs.paths.caCert })).admitted, false);
  const other = await makePki(['x']);
  assert.equal((await tryHello(port, { ca: certs.paths.caCert, cert: other.stranger.cert, key: other.stranger.key })).admitted, false);
  await other.cleanup();
  for (const bad of [encodeFrame(FrameType.REPORT, Buffer.from('{"results": [')), Buffer.from([0xee, 0, 0, 0, 0])]) {
    const h = await WireClient.connect(port, paths);
    await h.hello();
    h.sendRaw(bad);
    assert.equal((await h.next())?.type, 'ERROR');
    h.close();
  }
}

describe('log hygiene', () => {
  let certs: CertDir;
  const secrets: { name: string; value: string }[] = [];

  before(async () => {
    certs = await makeCertDir(['alice']);
    for (const [name, path] of [
      ['CA key', certs.paths.caKey],
      ['server key', certs.paths.serverKey],
      ['client key', certs.client('alice').key],
    ] as const) {
      for (const value of await keyFragments(path)) secrets.push({ name, value });
    }
  });
  after(() => certs.cleanup());

  const serverArgs = (logFile: string) => [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--ca',
    certs.paths.caCert,
    '--cert',
    certs.paths.serverCert,
    '--key',
    certs.paths.serverKey,
    '--store',
    join(certs.dir, 'r.db'),
    '--builtin-files',
    '1KiB',
    '--stats-interval',
    '0',
    '--log-level',
    'trace',
    '--log-file',
    logFile,
    '--http',
    '127.0.0.1:0',
  ];

  async function stop(p: CliProcess): Promise<void> {
    p.child.kill('SIGTERM');
    assert.equal((await p.exited).code, 0);
  }

  test('generated dashboard token: kept in a file named on stderr, in no log line; no key anywhere', async (t) => {
    const logFile = join(certs.dir, 'server-generated.log');
    const server = runCli(serverArgs(logFile));
    t.after(() => void server.child.kill('SIGKILL'));
    const listening = await server.waitFor((l) => l.msg === 'listening');
    const dashboard = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('dashboard:'));
    assert.equal(dashboard.tokenGenerated, true);
    // Not a terminal: stderr names the file keeping the token (next to the store), never the token.
    while (!server.stderr.some((l) => l.includes('token in '))) await new Promise((r) => setImmediate(r));
    const tokenFile = String(dashboard.tokenFile);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    assert.ok(!server.stderr.join('\n').includes(token));
    const url = String(dashboard.url);

    await exercise(Number(listening.port), certs);
    assert.equal(await get(`${url}metrics`, { authorization: `Bearer ${token}` }), 200);
    assert.equal(await get(`${url}metrics`, { authorization: `Bearer ${token}x` }), 401);
    assert.equal(await get(`${url}?token=${token}`, { accept: 'text/html' }), 303);
    assert.equal(await get(`${url}?token=not-the-token-at-all`, { accept: 'text/html' }), 401);
    await stop(server);

    const sources = {
      stdout: server.lines.map((l) => JSON.stringify(l)),
      logFile: (await readFile(logFile, 'utf8')).split('\n'),
      stderr: server.stderr,
    };
    assert.ok(sources.logFile.length > 10, `the run logged: ${sources.logFile.length} file lines, ${sources.stdout.length} stdout lines`);
    assert.deepEqual(linesWith({ stdout: sources.stdout, logFile: sources.logFile }, token), [], 'the token is in no log line');
    assert.deepEqual(
      linesWith({ stderr: sources.stderr }, token),
      [],
      'stderr is a log under a service manager: the file is named instead',
    );
    assert.equal(sources.stderr.filter((l) => l.includes(`token in ${tokenFile}`)).length, 1, 'the file is named once for the operator');
    assert.deepEqual(linesWith(sources, 'PRIVATE KEY'), []);
    for (const s of secrets) assert.deepEqual(linesWith(sources, s.value), [], `${s.name} material`);
  });

  test('configured token (NETPROBE_HTTP_TOKEN) and a client run: neither token nor key appears anywhere', async (t) => {
    const token = 'configured-token-0123456789abcdef';
    const logFile = join(certs.dir, 'server-configured.log');
    const server = runCli(serverArgs(logFile), { NETPROBE_HTTP_TOKEN: token });
    t.after(() => void server.child.kill('SIGKILL'));
    const port = Number((await server.waitFor((l) => l.msg === 'listening')).port);
    const dashboard = await server.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('dashboard:'));
    assert.equal(dashboard.tokenGenerated, false);
    await exercise(port, certs);
    assert.equal(await get(`${String(dashboard.url)}metrics`, { authorization: `Bearer ${token}` }), 200);

    const clientLog = join(certs.dir, 'client.log');
    const client = runCli([
      'client',
      '--server',
      `127.0.0.1:${port}`,
      '--ca',
      certs.paths.caCert,
      '--cert',
      certs.client('alice').cert,
      '--key',
      certs.client('alice').key,
      '--file',
      '1KiB',
      '--count',
      '2',
      '--interval',
      '50ms',
      '--outbox',
      join(certs.dir, 'outbox.db'),
      '--log-level',
      'trace',
      '--log-file',
      clientLog,
    ]);
    assert.equal((await client.exited).code, 0, client.stderr.join('\n'));
    await stop(server);

    const sources = {
      stdout: server.lines.map((l) => JSON.stringify(l)),
      stderr: server.stderr,
      logFile: (await readFile(logFile, 'utf8')).split('\n'),
      clientStdout: client.lines.map((l) => JSON.stringify(l)),
      clientStderr: client.stderr,
      clientLog: (await readFile(clientLog, 'utf8')).split('\n'),
    };
    assert.ok(sources.clientLog.some((l) => l.includes('"measurement"')));
    assert.deepEqual(linesWith(sources, token), []);
    assert.deepEqual(linesWith(sources, 'PRIVATE KEY'), []);
    for (const s of secrets) assert.deepEqual(linesWith(sources, s.value), [], `${s.name} material`);
  });

  test('configuration errors name the setting, never the secret value or key contents', async () => {
    const base = [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--ca',
      certs.paths.caCert,
      '--store',
      ':memory:',
      '--builtin-files',
      '1KiB',
    ];
    const badToken = 'short-Secret';
    const runs = [
      runCli([...base, '--cert', certs.paths.serverCert, '--key', certs.paths.serverKey, '--http', '0', '--http-token', badToken]),
      // A key that does not belong to the certificate, and a key passed as the certificate.
      runCli([...base, '--cert', certs.paths.serverCert, '--key', certs.client('alice').key]),
      runCli([...base, '--cert', certs.paths.serverKey, '--key', certs.paths.serverKey]),
      runCli([
        'client',
        '--server',
        '127.0.0.1:1',
        '--ca',
        certs.paths.caCert,
        '--cert',
        certs.paths.caKey,
        '--key',
        certs.paths.caKey,
        '--once',
      ]),
    ];
    for (const r of runs) assert.notEqual((await r.exited).code, 0);
    const sources = Object.fromEntries(runs.map((r, i) => [`run${i}`, [...r.stderr, ...r.lines.map((l) => JSON.stringify(l))]]));
    assert.match(sources.run0!.join('\n'), /--http-token: a bearer token of 16 to 256 characters is needed/);
    assert.match(sources.run1!.join('\n'), /is not the private key of --cert/);
    assert.deepEqual(linesWith(sources, badToken), []);
    assert.deepEqual(linesWith(sources, 'PRIVATE KEY'), []);
    for (const s of secrets) assert.deepEqual(linesWith(sources, s.value), [], `${s.name} material`);
  });
});
