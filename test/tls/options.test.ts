/** TLS option presets, material loading, version parsing and SAN name handling. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetprobeError } from '../../src/errors.js';
import { canonicalIp, serverAltNames } from '../../src/tls/names.js';
import { TLS_CIPHERS, clientTlsOptions, loadTlsMaterial, parseTlsMinVersion, serverTlsOptions } from '../../src/tls/options.js';
import { makePki, makeTempDir, material } from './helpers.js';

test('parseTlsMinVersion accepts 1.2 and 1.3 only', () => {
  assert.equal(parseTlsMinVersion('1.2'), 'TLSv1.2');
  assert.equal(parseTlsMinVersion('TLSv1.2'), 'TLSv1.2');
  assert.equal(parseTlsMinVersion('1.3'), 'TLSv1.3');
  assert.equal(parseTlsMinVersion('TLSv1.3'), 'TLSv1.3');
  for (const bad of ['1.0', '1.1', 'TLSv1.1', 'TLSv1', 'SSLv3', '', '1.4', 'tls1.3']) {
    assert.throws(
      () => parseTlsMinVersion(bad),
      (err: unknown) => err instanceof NetprobeError && err.code === 'NETPROBE_USAGE' && /use 1\.2 or 1\.3/.test(err.message),
      bad,
    );
  }
});

test('serverTlsOptions: mutual TLS, TLS 1.3 minimum, ALPN netprobe/1, AEAD ciphers', async () => {
  const pki = await makePki();
  const options = serverTlsOptions(material(pki.ca, pki.server));
  assert.equal(options.requestCert, true);
  assert.equal(options.rejectUnauthorized, true);
  assert.equal(options.minVersion, 'TLSv1.3');
  assert.deepEqual(options.ALPNProtocols, ['netprobe/1']);
  assert.equal(options.honorCipherOrder, true);
  assert.equal(options.ciphers, TLS_CIPHERS);
  for (const suite of TLS_CIPHERS.split(':')) assert.match(suite, /^TLS_|^ECDHE-(ECDSA|RSA)-.*(GCM|POLY1305)/);
  assert.equal(serverTlsOptions(material(pki.ca, pki.server), { minVersion: 'TLSv1.2' }).minVersion, 'TLSv1.2');
});

test('clientTlsOptions: always verifies, SNI only for host names', async () => {
  const pki = await makePki();
  const byName = clientTlsOptions(material(pki.ca, pki.alice), { host: 'probe.example.org', port: 4443 });
  assert.equal(byName.servername, 'probe.example.org');
  assert.equal(byName.rejectUnauthorized, true);
  assert.equal(byName.minVersion, 'TLSv1.3');
  assert.deepEqual(byName.ALPNProtocols, ['netprobe/1']);
  assert.equal(byName.host, 'probe.example.org');
  assert.equal(byName.port, 4443);
  for (const ip of ['127.0.0.1', '::1']) {
    const byIp = clientTlsOptions(material(pki.ca, pki.alice), { host: ip, port: 4443 });
    assert.equal('servername' in byIp, false, ip);
    assert.equal(byIp.rejectUnauthorized, true);
  }
});

test('loadTlsMaterial reads files and names the missing or unusable one', async (t) => {
  const dir = await makeTempDir(t);
  const pki = await makePki();
  const paths = { ca: join(dir, 'ca.crt'), cert: join(dir, 'alice.crt'), key: join(dir, 'alice.key') };
  await writeFile(paths.ca, pki.ca.certPem);
  await writeFile(paths.cert, pki.alice.certPem);

  await assert.rejects(loadTlsMaterial(paths), (err: unknown) => {
    assert.ok(err instanceof NetprobeError);
    assert.equal(err.code, 'NETPROBE_CERT');
    assert.equal(err.message, `cannot read private key ${paths.key}: file not found`);
    return true;
  });

  await writeFile(paths.key, pki.server.keyPem);
  await assert.rejects(loadTlsMaterial(paths), {
    code: 'NETPROBE_CERT',
    message: /--key .*alice\.key is not the private key of --cert .*alice\.crt/,
  });

  await writeFile(paths.key, pki.alice.keyPem);
  const loaded = await loadTlsMaterial(paths);
  assert.deepEqual(loaded, material(pki.ca, pki.alice));
});

test('canonicalIp normalises IPv6 and rejects non-IPs', () => {
  assert.equal(canonicalIp('10.0.0.1'), '10.0.0.1');
  assert.equal(canonicalIp('::1'), '0:0:0:0:0:0:0:1');
  assert.equal(canonicalIp('::'), '0:0:0:0:0:0:0:0');
  assert.equal(canonicalIp('2001:DB8::0001'), '2001:db8:0:0:0:0:0:1');
  assert.equal(canonicalIp('fe80::'), 'fe80:0:0:0:0:0:0:0');
  assert.equal(canonicalIp('::ffff:192.0.2.1'), '0:0:0:0:0:ffff:c000:201');
  assert.equal(canonicalIp('1:2:3:4:5:6:7:8'), '1:2:3:4:5:6:7:8');
  assert.equal(canonicalIp('fe80::1%eth0'), undefined);
  assert.equal(canonicalIp('localhost'), undefined);
  assert.equal(canonicalIp('999.1.1.1'), undefined);
});

test('serverAltNames always includes loopback names and removes duplicates', () => {
  assert.deepEqual(serverAltNames(['LocalHost', '127.0.0.1', '[::1]', 'Probe.Example.org.', '0:0::1', '192.0.2.7']), {
    dnsNames: ['localhost', 'probe.example.org'],
    ipAddresses: ['127.0.0.1', '0:0:0:0:0:0:0:1', '192.0.2.7'],
  });
  assert.deepEqual(serverAltNames(['*.probes.example.org']).dnsNames, ['localhost', '*.probes.example.org']);
  assert.throws(() => serverAltNames(['*.org']), { code: 'NETPROBE_CERT' });
});
