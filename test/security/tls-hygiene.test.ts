/**
 * TLS hygiene of the running server, judged by independent tools: sslscan (Debian package; given a
 * client certificate, since without one a mutual-TLS server ends every TLS 1.2 handshake and
 * sslscan would see no 1.2 cipher at all) and openssl s_client.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliProcess } from '../helpers/process.js';
import { type CertDir, makeCertDir, requireTool } from './helpers.js';

interface Run {
  status: number | null;
  output: string;
}

function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end();
  });
}

/** Protocols and accepted ciphers from sslscan's XML report. */
function parseSslscan(xml: string): { protocols: Record<string, boolean>; ciphers: { version: string; name: string }[]; groups: string[] } {
  const protocols: Record<string, boolean> = {};
  for (const m of xml.matchAll(/<protocol type="(\w+)" version="([\d.]+)" enabled="(\d)"/g)) protocols[`${m[1]}${m[2]}`] = m[3] === '1';
  const ciphers = [...xml.matchAll(/<cipher status="(?:preferred|accepted)" sslversion="([^"]+)"[^>]* cipher="([^"]+)"/g)].map((m) => ({
    version: m[1]!,
    name: m[2]!,
  }));
  const groups = [...xml.matchAll(/<group [^>]*name="([^"]+)"/g)].map((m) => m[1]!);
  return { protocols, ciphers, groups };
}

/** AEAD only: AES-GCM or ChaCha20-Poly1305, and for TLS 1.2 ECDHE key exchange (forward secrecy). */
const AEAD_13 = /^TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/;
const AEAD_12 = /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/;

describe('TLS hygiene of the running server', () => {
  let certs: CertDir;
  let tls13: CliProcess;
  let tls12: CliProcess;
  const ports = { tls13: 0, tls12: 0 };

  before(async () => {
    certs = await makeCertDir(['scanner']);
    const args = (extra: string[]) => [
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
      ':memory:',
      '--builtin-files',
      '1KiB',
      '--stats-interval',
      '0',
      ...extra,
    ];
    tls13 = runCli(args([]));
    tls12 = runCli(args(['--tls-min', '1.2']));
    ports.tls13 = Number((await tls13.waitFor((l) => l.msg === 'listening')).port);
    ports.tls12 = Number((await tls12.waitFor((l) => l.msg === 'listening')).port);
  });
  after(async () => {
    for (const p of [tls13, tls12]) p.child.kill('SIGKILL');
    await certs.cleanup();
  });

  const clientAuth = () => ['-CAfile', certs.paths.caCert, '-cert', certs.client('scanner').cert, '-key', certs.client('scanner').key];

  test('sslscan: only TLS 1.3 by default, only AEAD suites, only elliptic-curve groups', async (t) => {
    const sslscan = await requireTool('sslscan', 'install the Debian sslscan package (.ci/run does)');
    if (!sslscan) return t.skip('sslscan is not installed');
    const xmlPath = join(certs.dir, 'scan13.xml');
    const r = await run(sslscan, [
      '--no-colour',
      `--xml=${xmlPath}`,
      `--certs=${certs.client('scanner').cert}`,
      `--pk=${certs.client('scanner').key}`,
      `127.0.0.1:${ports.tls13}`,
    ]);
    assert.equal(r.status, 0, r.output);
    const scan = parseSslscan(await readFile(xmlPath, 'utf8'));
    assert.deepEqual(scan.protocols, { ssl2: false, ssl3: false, 'tls1.0': false, 'tls1.1': false, 'tls1.2': false, 'tls1.3': true });
    assert.ok(scan.ciphers.length > 0);
    for (const c of scan.ciphers) {
      assert.equal(c.version, 'TLSv1.3');
      assert.match(c.name, AEAD_13);
    }
    assert.ok(scan.groups.length > 0);
    for (const g of scan.groups) assert.match(g, /^(x25519|secp256r1|secp384r1)\b/, `group ${g}`);
  });

  test('sslscan with tlsMin 1.2: TLS 1.2 and 1.3 only, every TLS 1.2 suite ECDHE with AEAD', async (t) => {
    const sslscan = await requireTool('sslscan', 'install the Debian sslscan package (.ci/run does)');
    if (!sslscan) return t.skip('sslscan is not installed');
    const xmlPath = join(certs.dir, 'scan12.xml');
    const r = await run(sslscan, [
      '--no-colour',
      `--xml=${xmlPath}`,
      `--certs=${certs.client('scanner').cert}`,
      `--pk=${certs.client('scanner').key}`,
      `127.0.0.1:${ports.tls12}`,
    ]);
    assert.equal(r.status, 0, r.output);
    const scan = parseSslscan(await readFile(xmlPath, 'utf8'));
    assert.deepEqual(scan.protocols, { ssl2: false, ssl3: false, 'tls1.0': false, 'tls1.1': false, 'tls1.2': true, 'tls1.3': true });
    const v12 = scan.ciphers.filter((c) => c.version === 'TLSv1.2');
    assert.ok(v12.length > 0, 'sslscan saw the TLS 1.2 suites');
    for (const c of v12) assert.match(c.name, AEAD_12);
    for (const c of scan.ciphers.filter((x) => x.version === 'TLSv1.3')) assert.match(c.name, AEAD_13);
  });

  // The client side allows old protocols (@SECLEVEL=0), so any refusal comes from the server.
  for (const version of ['tls1', 'tls1_1', 'tls1_2']) {
    test(`openssl s_client -${version} is refused by the default server (protocol version alert), and logged`, async () => {
      const r = await run('openssl', [
        's_client',
        '-connect',
        `127.0.0.1:${ports.tls13}`,
        `-${version}`,
        '-cipher',
        'DEFAULT:@SECLEVEL=0',
        ...clientAuth(),
      ]);
      assert.notEqual(r.status, 0, r.output);
      assert.match(r.output, /alert protocol version/);
      await tls13.waitFor((l) => l.msg === 'TLS handshake refused' && l.code === 'ERR_SSL_UNSUPPORTED_PROTOCOL');
    });
  }

  test('openssl s_client -tls1_1 is refused by a tlsMin 1.2 server too', async () => {
    const r = await run('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${ports.tls12}`,
      '-tls1_1',
      '-cipher',
      'DEFAULT:@SECLEVEL=0',
      ...clientAuth(),
    ]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /alert protocol version/);
  });

  test('openssl s_client -tls1_2 succeeds with tlsMin 1.2, on an ECDHE AEAD suite', async () => {
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${ports.tls12}`, '-tls1_2', ...clientAuth()]);
    assert.equal(r.status, 0, r.output);
    const cipher = /Cipher is (\S+)/.exec(r.output)?.[1];
    assert.match(cipher ?? '', AEAD_12);
    assert.match(r.output, /Verify return code: 0 \(ok\)/);
  });

  test('openssl s_client -tls1_2 offering only CBC suites gets a handshake failure', async () => {
    const r = await run('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${ports.tls12}`,
      '-tls1_2',
      '-cipher',
      'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA:AES128-SHA',
      ...clientAuth(),
    ]);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /alert handshake failure/);
    await tls12.waitFor((l) => l.msg === 'TLS handshake refused' && l.code === 'ERR_SSL_NO_SHARED_CIPHER');
  });
});
