/**
 * Who gets in: every certificate that does not belong is refused during the handshake (or, for the
 * deny list, right after it, before a single frame is read) and the refusal is logged with its
 * reason; revocations reload without a restart; nobody stores a result under another name.
 */
// Before @peculiar/x509 (its DI container needs Reflect metadata at import time).
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { type Message, encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { crlPath, refreshCrl, revokeClientCert } from '../../src/tls/ca.js';
import { fingerprint256 } from '../../src/tls/crl.js';
import { clientTlsOptions } from '../../src/tls/options.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { type CertDir, captureLogs, makeCertDir, tryHello } from './helpers.js';

const DAY_MS = 86_400_000;

/** A "certificate for bob" signed with alice's own key: what a client could forge. */
async function forgeWithClientKey(dir: CertDir, signer: string, commonName: string): Promise<{ cert: string; key: string }> {
  const signerPaths = dir.client(signer);
  const signerCert = new x509.X509Certificate(await readFile(signerPaths.cert, 'utf8'));
  const pkcs8 = x509.PemConverter.decodeFirst(await readFile(signerPaths.key, 'utf8'));
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: [{ CN: [commonName] }],
    issuer: signerCert.subjectName,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + DAY_MS),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
  const out = { cert: join(dir.dir, 'forged.crt'), key: join(dir.dir, 'forged.key') };
  // The chain a forger would present: the forged leaf, then alice's real certificate.
  await writeFile(out.cert, `${cert.toString('pem')}\n${signerCert.toString('pem')}\n`);
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  await writeFile(out.key, `${x509.PemConverter.encode(der, 'PRIVATE KEY')}\n`, { mode: 0o600 });
  return out;
}

describe('identity: certificates that do not belong are refused at the handshake and logged', () => {
  let certs: CertDir;
  let server: RunningServer;
  const logs = captureLogs();
  const refusals: string[] = [];
  const handshakeFailures: string[] = [];

  before(async () => {
    certs = await makeCertDir(['alice', 'bob', 'carol']);
    await revokeClientCert({ dir: certs.dir, name: 'carol' });
    server = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        ca: certs.paths.caCert,
        cert: certs.paths.serverCert,
        key: certs.paths.serverKey,
        store: ':memory:',
        builtinFiles: ['1KiB'],
        statsIntervalMs: 0,
        crl: crlPath(certs.dir),
      },
      { logger: logs.logger },
    );
    server.context.events.on('connectionRefused', ({ reason }) => refusals.push(reason));
    server.context.events.on('handshakeFailed', ({ reason }) => handshakeFailures.push(reason));
  });
  after(async () => {
    await server.close(1000);
    await certs.cleanup();
  });

  test('a client certificate of the CA gets in', async () => {
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('alice') }), { admitted: true });
  });

  // Node verifies the client certificate after OpenSSL's handshake and drops the socket: the client
  // sees a close (only a missing certificate gets an alert). The verdict is the server's log line.
  const cases: [string, () => Promise<{ cert?: string; key?: string }>, RegExp][] = [
    ['no certificate', async () => ({}), /peer did not return a certificate/],
    [
      'a certificate from another CA',
      async () => {
        const other = await makePki(['alice']);
        after(() => other.cleanup());
        return { cert: other.stranger.cert, key: other.stranger.key };
      },
      /^UNABLE_TO_VERIFY_LEAF_SIGNATURE$/,
    ],
    [
      'an expired certificate',
      () => certs.issue('expired', { usage: 'client', now: new Date(Date.now() - 30 * DAY_MS), validDays: 2 }),
      /^CERT_HAS_EXPIRED$/,
    ],
    [
      'a certificate not valid yet',
      () => certs.issue('future', { usage: 'client', now: new Date(Date.now() + 30 * DAY_MS) }),
      /^CERT_NOT_YET_VALID$/,
    ],
    ['a revoked certificate (CRL)', async () => certs.client('carol'), /^CERT_REVOKED$/],
    [
      "the server's own certificate (serverAuth only)",
      async () => ({ cert: certs.paths.serverCert, key: certs.paths.serverKey }),
      /^INVALID_PURPOSE$/,
    ],
    // OpenSSL says INVALID_CA without a CRL; with CRL checking on it stops earlier, at UNSPECIFIED.
    ['a certificate a client signed with its own key', () => forgeWithClientKey(certs, 'alice', 'bob'), /^(INVALID_CA|UNSPECIFIED)$/],
  ];
  for (const [what, make, reason] of cases) {
    test(`${what}: refused during the handshake, logged with reason ${reason.source}, no frame read`, async () => {
      const material = await make();
      const before = server.context.metrics.connections;
      const logged = logs.lines.length;
      const outcome = await tryHello(server.port, { ca: certs.paths.caCert, ...material });
      assert.equal(outcome.admitted, false);
      // The refusal is logged as the server drops the socket, which is also when the client sees the close.
      while (!logs.lines.slice(logged).some((l) => l.msg === 'TLS handshake refused')) await new Promise((r) => setImmediate(r));
      const line = logs.lines.slice(logged).find((l) => l.msg === 'TLS handshake refused')!;
      assert.match(String(line.reason), reason);
      assert.equal(line.peer, '127.0.0.1');
      assert.equal(server.context.metrics.connections, before, 'no connection reached the protocol');
    });
  }

  test('the refusals are counted by reason for /metrics', () => {
    for (const reason of [
      'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'CERT_HAS_EXPIRED',
      'CERT_NOT_YET_VALID',
      'CERT_REVOKED',
      'INVALID_PURPOSE',
    ]) {
      assert.ok(handshakeFailures.includes(reason), `${reason} in ${handshakeFailures.join(', ')}`);
    }
  });

  test("a result naming another client is refused; another client's result id cannot be overwritten", async (t) => {
    const alice = await WireClient.connect(server.port, { ca: certs.paths.caCert, ...certs.client('alice') });
    t.after(() => alice.close());
    await alice.hello();
    const mine = sampleResult({ throughputMbps: 111 });
    alice.send({ type: 'REPORT', results: [mine] });
    assert.equal((await alice.next())?.type, 'ACK');

    const bob = await WireClient.connect(server.port, { ca: certs.paths.caCert, ...certs.client('bob') });
    t.after(() => bob.close());
    await bob.hello();
    // The same id under bob's own name: acknowledged as already stored, alice's row untouched.
    bob.send({ type: 'REPORT', results: [{ ...mine, throughputMbps: 1 }] });
    const ack = await bob.next();
    assert.ok(ack?.type === 'ACK');
    assert.equal(ack.duplicates, 1);
    const rows = [];
    for await (const r of server.store.iterateResults()) if (r.id === mine.id) rows.push(r);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.client, 'alice');
    assert.equal(rows[0]!.throughputMbps, 111);

    for (const claim of ['alice', 'Bob', 'bob ', 'bob\u0000']) {
      const c = await WireClient.connect(server.port, { ca: certs.paths.caCert, ...certs.client('bob') });
      await c.hello();
      const forged = sampleResult({ client: claim });
      c.send({ type: 'REPORT', results: [forged] });
      const reply = await c.next();
      assert.ok(reply?.type === 'ERROR', `claim ${JSON.stringify(claim)}`);
      assert.equal(reply.code, 'NETPROBE_IDENTITY');
      await c.closed();
      assert.equal(await server.store.hasResult(forged.id), false);
    }
  });
});

describe('revocation reload (deny list and CRL) without a restart', () => {
  let certs: CertDir;
  let server: RunningServer;
  let denyList: string;
  const logs = captureLogs();

  before(async () => {
    certs = await makeCertDir(['alice', 'bob', 'carol', 'dave']);
    denyList = join(certs.dir, 'deny.txt');
    await writeFile(
      denyList,
      `# revoked client certificates\n${fingerprint256(await readFile(certs.client('bob').cert))}  # bob's laptop\n`,
    );
    await refreshCrl({ dir: certs.dir });
    server = await startServer(
      {
        host: '127.0.0.1',
        port: 0,
        ca: certs.paths.caCert,
        cert: certs.paths.serverCert,
        key: certs.paths.serverKey,
        store: ':memory:',
        builtinFiles: ['1KiB'],
        statsIntervalMs: 0,
        denyList,
        crl: crlPath(certs.dir),
      },
      { logger: logs.logger },
    );
  });
  after(async () => {
    await server.close(1000);
    await certs.cleanup();
  });

  test('a denied fingerprint is refused before any frame is read and logged with reason revoked', async () => {
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('bob') }), { admitted: false, code: undefined });
    const line = logs.lines.find((l) => l.msg === 'client refused: certificate revoked');
    assert.equal(line?.client, 'bob');
    assert.equal(line?.reason, 'revoked');
    assert.equal(line?.by, 'deny list');
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('alice') }), { admitted: true });
  });

  test('reload: open connections of a newly revoked client are closed; new ones and resumed sessions refused', async (t) => {
    const material = {
      ca: await readFile(certs.paths.caCert),
      cert: await readFile(certs.client('alice').cert),
      key: await readFile(certs.client('alice').key),
    };
    // A TLS session ticket alice could try to resume with after her revocation.
    const ticket = await new Promise<Buffer>((resolve, reject) => {
      const s = tls.connect(clientTlsOptions(material, { host: '127.0.0.1', port: server.port }));
      s.once('session', (session: Buffer) => {
        resolve(session);
        s.destroy();
      });
      s.once('error', reject);
    });
    const open = await WireClient.connect(server.port, { ca: certs.paths.caCert, ...certs.client('alice') });
    t.after(() => open.close());
    assert.equal((await open.hello())?.type, 'WELCOME');

    await writeFile(denyList, `${await readFile(denyList, 'utf8')}sha256 Fingerprint=${fingerprint256(material.cert)}\n`);
    const summary = await server.reloadRevocations();
    assert.equal(summary.fingerprints, 2);
    assert.equal(summary.closed, 1);
    await open.closed();
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('alice') }), {
      admitted: false,
      code: undefined,
    });

    // Reload rotated the ticket keys, and every connection, resumed or not, is checked after the handshake.
    const answers = await new Promise<Message[]>((resolve) => {
      const s = tls.connect({ ...clientTlsOptions(material, { host: '127.0.0.1', port: server.port }), session: ticket });
      const decoder = new FrameDecoder();
      const messages: Message[] = [];
      s.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) if (item.kind === 'frame') messages.push(parseMessage(item));
      });
      s.on('error', () => undefined);
      s.once('secureConnect', () => s.write(encodeMessage({ type: 'PING', seq: 1 })));
      s.once('close', () => resolve(messages));
    });
    // Nothing is served (no PONG); the refusal says why, so the client records a setup failure.
    assert.deepEqual(
      answers.map((m) => (m.type === 'ERROR' ? `${m.type} ${m.code}: ${m.message}` : m.type)),
      ['ERROR NETPROBE_TLS_UNAUTHORIZED: the client certificate is revoked'],
      'a revoked client presenting an old session ticket is told it is refused, and served nothing',
    );
    assert.ok(logs.lines.filter((l) => l.msg === 'client refused: certificate revoked' && l.client === 'alice').length >= 2);
  });

  test('reload: a certificate added to the CRL is refused at the handshake with CERT_REVOKED', async () => {
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('carol') }), { admitted: true });
    await revokeClientCert({ dir: certs.dir, name: 'carol' });
    const summary = await server.reloadRevocations();
    assert.equal(summary.serials, 1);
    const logged = logs.lines.length;
    assert.equal((await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('carol') })).admitted, false);
    while (!logs.lines.slice(logged).some((l) => l.msg === 'TLS handshake refused')) await new Promise((r) => setImmediate(r));
    assert.ok(logs.lines.slice(logged).some((l) => l.msg === 'TLS handshake refused' && l.reason === 'CERT_REVOKED'));
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('dave') }), { admitted: true });
  });

  test('a broken deny list is refused with NETPROBE_CONFIG naming the line; the previous lists stay in force', async () => {
    await writeFile(denyList, 'AB:CD\n');
    await assert.rejects(server.reloadRevocations(), { code: 'NETPROBE_CONFIG', message: /deny\.txt:1: 'AB:CD' is not a SHA-256/ });
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('bob') }), { admitted: false, code: undefined });
    assert.deepEqual(await tryHello(server.port, { ca: certs.paths.caCert, ...certs.client('dave') }), { admitted: true });
  });

  test('a CRL signed by another CA is refused at start', async () => {
    const other = await makeCertDir([]);
    after(() => other.cleanup());
    await refreshCrl({ dir: other.dir });
    await assert.rejects(
      startServer({
        host: '127.0.0.1',
        port: 0,
        ca: certs.paths.caCert,
        cert: certs.paths.serverCert,
        key: certs.paths.serverKey,
        store: ':memory:',
        builtinFiles: ['1KiB'],
        crl: crlPath(other.dir),
      }),
      { code: 'NETPROBE_CONFIG', message: /not signed by the CA/ },
    );
  });
});

test('CLI: `certs revoke` then SIGHUP refuses the client without a restart; the reason is logged', async (t) => {
  const certs = await makeCertDir(['alice', 'eve']);
  t.after(() => certs.cleanup());
  const crl = runCli(['certs', 'crl', '--dir', certs.dir]);
  assert.equal((await crl.exited).code, 0);
  const server = runCli([
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
    '--crl',
    crlPath(certs.dir),
  ]);
  t.after(() => void server.child.kill('SIGKILL'));
  const port = Number((await server.waitFor((l) => l.msg === 'listening')).port);
  assert.deepEqual(await tryHello(port, { ca: certs.paths.caCert, ...certs.client('eve') }), { admitted: true });

  const revoke = runCli(['certs', 'revoke', 'eve', '--dir', certs.dir]);
  assert.equal((await revoke.exited).code, 0);
  server.child.kill('SIGHUP');
  const reloaded = await server.waitFor((l) => l.msg === 'revocations reloaded');
  assert.equal(reloaded.serials, 1);
  assert.equal((await tryHello(port, { ca: certs.paths.caCert, ...certs.client('eve') })).admitted, false);
  await server.waitFor((l) => l.msg === 'TLS handshake refused' && l.reason === 'CERT_REVOKED');
  assert.deepEqual(await tryHello(port, { ca: certs.paths.caCert, ...certs.client('alice') }), { admitted: true });
  assert.equal(server.child.exitCode, null, 'SIGHUP does not stop the server');
  server.child.kill('SIGTERM');
  assert.equal((await server.exited).code, 0);
});
