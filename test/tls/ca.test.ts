/** The on-disk CA: files, modes, overwrite rules, errors, and OpenSSL's opinion of the result. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { NetprobeError } from '../../src/errors.js';
import { certInfo, createCa, initCa, issueClientCert } from '../../src/tls/ca.js';
import { makeTempDir } from './helpers.js';

const execFileAsync = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

function isCertError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof NetprobeError);
    assert.equal(err.code, 'NETPROBE_CERT');
    assert.match(err.message, pattern);
    return true;
  };
}

async function mode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

test('initCa and issueClientCert write certificates that openssl verify accepts', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir, hosts: ['probe.example.org', '10.1.2.3'] });
  const alice = await issueClientCert({ dir, name: 'alice' });

  assert.deepEqual(paths, {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
  });
  assert.deepEqual(alice, { cert: join(dir, 'clients', 'alice.crt'), key: join(dir, 'clients', 'alice.key') });

  const server = await execFileAsync(OPENSSL, [
    'verify',
    '-x509_strict',
    '-purpose',
    'sslserver',
    '-CAfile',
    paths.caCert,
    paths.serverCert,
  ]);
  assert.equal(server.stdout.trim(), `${paths.serverCert}: OK`);
  const client = await execFileAsync(OPENSSL, ['verify', '-x509_strict', '-purpose', 'sslclient', '-CAfile', paths.caCert, alice.cert]);
  assert.equal(client.stdout.trim(), `${alice.cert}: OK`);

  // The server certificate must not pass as a client certificate and vice versa.
  await assert.rejects(execFileAsync(OPENSSL, ['verify', '-purpose', 'sslclient', '-CAfile', paths.caCert, paths.serverCert]));
  await assert.rejects(execFileAsync(OPENSSL, ['verify', '-purpose', 'sslserver', '-CAfile', paths.caCert, alice.cert]));
});

test('certificates carry the documented names, usages and CA constraints', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir, hosts: ['probe.example.org', '10.1.2.3', '::FFFF:192.0.2.1'] });
  await issueClientCert({ dir, name: 'alice' });

  const ca = new X509Certificate(await readFile(paths.caCert));
  const server = new X509Certificate(await readFile(paths.serverCert));
  const alice = new X509Certificate(await readFile(join(dir, 'clients', 'alice.crt')));

  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.ok(server.checkIssued(ca) && alice.checkIssued(ca));
  assert.ok(server.verify(ca.publicKey) && alice.verify(ca.publicKey));
  assert.equal(server.subject, 'CN=probe.example.org');
  assert.equal(alice.subject, 'CN=alice');
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(alice.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  assert.equal(
    server.subjectAltName,
    'DNS:localhost, DNS:probe.example.org, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.1.2.3, IP Address:0:0:0:0:0:FFFF:C000:201',
  );
  assert.ok(server.checkHost('probe.example.org') && server.checkIP('::1') && server.checkIP('10.1.2.3'));
  assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');

  const text = (await execFileAsync(OPENSSL, ['x509', '-noout', '-text', '-in', paths.caCert])).stdout;
  assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(text, /Subject Key Identifier/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
});

test('without --host the server CN is netprobe-server', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir });
  const info = certInfo(await readFile(paths.serverCert));
  assert.equal(info.commonName, 'netprobe-server');
  assert.deepEqual(info.dnsNames, ['localhost']);
  assert.deepEqual(info.ipAddresses, ['127.0.0.1', '::1']);
});

test('keys are 0600 and certificates 0644 whatever the umask', async (t) => {
  const dir = await makeTempDir(t);
  const previous = process.umask(0o000);
  t.after(() => process.umask(previous));
  const paths = await initCa({ dir });
  process.umask(0o077);
  const alice = await issueClientCert({ dir, name: 'alice' });

  for (const key of [paths.caKey, paths.serverKey, alice.key]) assert.equal(await mode(key), 0o600, key);
  for (const cert of [paths.caCert, paths.serverCert, alice.cert]) assert.equal(await mode(cert), 0o644, cert);
  assert.match(await readFile(paths.caKey, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
});

test('folders certs creates are 0700 whatever the umask (issue 17: 0777 under umask 000 before)', async (t) => {
  const base = await makeTempDir(t);
  const previous = process.umask(0o000);
  t.after(() => process.umask(previous));
  const dir = join(base, 'new', 'certs');
  await initCa({ dir });
  await issueClientCert({ dir, name: 'alice' });
  for (const d of [join(base, 'new'), dir, join(dir, 'clients')]) assert.equal(await mode(d), 0o700, d);
});

test('existing files are kept unless force is set', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir });
  const firstCa = await readFile(paths.caCert, 'utf8');

  await assert.rejects(initCa({ dir }), isCertError(/ca\.key already exists: use --force/));
  assert.equal(await readFile(paths.caCert, 'utf8'), firstCa);

  await issueClientCert({ dir, name: 'alice' });
  await assert.rejects(issueClientCert({ dir, name: 'alice' }), isCertError(/alice\.key already exists: use --force/));

  await initCa({ dir, force: true });
  assert.notEqual(await readFile(paths.caCert, 'utf8'), firstCa);
  assert.equal(await mode(paths.caKey), 0o600);
  await issueClientCert({ dir, name: 'alice', force: true });
  // Forced writes go through a temporary file that must not be left behind.
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'clients', 'server.crt', 'server.key']);
  assert.deepEqual((await readdir(join(dir, 'clients'))).sort(), ['alice.crt', 'alice.key']);
});

test('bad client names are refused before anything is written', async (t) => {
  const dir = await makeTempDir(t);
  await initCa({ dir });
  for (const name of ['', 'bad/name', '../escape', '.hidden', '-dash', 'a b', 'x'.repeat(65), 'naïve']) {
    await assert.rejects(issueClientCert({ dir, name }), isCertError(/invalid client name/), JSON.stringify(name));
  }
  await assert.rejects(readdir(join(dir, 'clients')), { code: 'ENOENT' });
  await issueClientCert({ dir, name: `A${'b'.repeat(63)}` });
  await issueClientCert({ dir, name: 'probe-01.site_a' });
});

test('bad host names are refused', async (t) => {
  const dir = await makeTempDir(t);
  for (const host of ['bad host', 'under_score.example', '-lead.example', 'fe80::1%eth0', 'a..b']) {
    await assert.rejects(initCa({ dir, hosts: [host] }), isCertError(/invalid host/), host);
  }
});

test('a missing CA is reported with the command that creates it', async (t) => {
  const dir = await makeTempDir(t);
  await assert.rejects(
    issueClientCert({ dir, name: 'alice' }),
    isCertError(new RegExp(`no CA in ${dir}.*run netprobe certs init --dir ${dir} first`)),
  );
});

test('a CA key that does not match ca.crt is refused', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir });
  await writeFile(paths.caKey, (await createCa()).keyPem);
  await assert.rejects(issueClientCert({ dir, name: 'alice' }), isCertError(/does not belong/));
});

test('an unwritable directory is a CertError naming the path', async (t) => {
  const dir = await makeTempDir(t);
  const file = join(dir, 'plain-file');
  await writeFile(file, '');
  await assert.rejects(initCa({ dir: join(file, 'certs') }), isCertError(/cannot create directory .*plain-file\/certs: ENOTDIR/));
});

test('validity starts an hour early and defaults to 825 days (leaf) and 3650 days (CA)', async (t) => {
  const dir = await makeTempDir(t);
  const now = new Date('2030-01-01T00:00:00Z');
  const paths = await initCa({ dir, now });
  const ca = certInfo(await readFile(paths.caCert));
  const server = certInfo(await readFile(paths.serverCert));
  const hourMs = 3_600_000;
  const dayMs = 24 * hourMs;

  assert.equal(server.notBefore.getTime(), now.getTime() - hourMs);
  assert.equal(server.notAfter.getTime(), now.getTime() + 825 * dayMs);
  assert.equal(ca.notAfter.getTime(), now.getTime() + 3650 * dayMs);

  const clamped = await initCa({ dir, now, force: true, validDays: 5000, caValidDays: 10 });
  assert.equal(certInfo(await readFile(clamped.serverCert)).notAfter.getTime(), now.getTime() + 10 * dayMs);
  await assert.rejects(initCa({ dir, force: true, validDays: 0 }), isCertError(/invalid validity/));
});

test('serial numbers are random and positive; certInfo matches node fingerprints', async (t) => {
  const dir = await makeTempDir(t);
  const paths = await initCa({ dir });
  const pems = [await readFile(paths.caCert, 'utf8'), await readFile(paths.serverCert, 'utf8')];
  const infos = pems.map((pem) => certInfo(pem));
  for (const [index, info] of infos.entries()) {
    assert.match(info.serialNumber, /^[4-7][0-9a-f]{31}$/);
    assert.equal(info.fingerprint256, new X509Certificate(pems[index] ?? '').fingerprint256);
  }
  assert.notEqual(infos[0]?.serialNumber, infos[1]?.serialNumber);
  assert.throws(() => certInfo('not a certificate'), isCertError(/cannot parse certificate/));
});
