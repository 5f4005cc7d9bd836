/** Real mutual-TLS handshakes on loopback with serverTlsOptions/clientTlsOptions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCa, issueCert } from '../../src/tls/ca.js';
import { clientTlsOptions, serverTlsOptions } from '../../src/tls/options.js';
import { ALPN_PROTOCOL } from '../../src/protocol/frame.js';
import { attempt, makePki, material, nextClientError, startServer } from './helpers.js';

test('mutual TLS on 127.0.0.1 negotiates TLSv1.3 and ALPN, server sees the client CN', async (t) => {
  const pki = await makePki();
  const { port, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const outcome = await attempt(t, clientTlsOptions(material(pki.ca, pki.alice), { host: '127.0.0.1', port }));

  assert.equal(outcome.error, undefined);
  assert.equal(outcome.secureConnect, true);
  assert.equal(outcome.protocol, 'TLSv1.3');
  assert.equal(outcome.alpnProtocol, ALPN_PROTOCOL);
  assert.equal(accepted.length, 1);
  assert.deepEqual(accepted[0], {
    peerCommonName: 'alice',
    servername: false,
    alpnProtocol: 'netprobe/1',
    protocol: 'TLSv1.3',
  });
});

test('a client connecting to localhost sends SNI and verifies the server name', async (t) => {
  const pki = await makePki();
  const { port, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const outcome = await attempt(t, clientTlsOptions(material(pki.ca, pki.alice), { host: 'localhost', port }));

  assert.equal(outcome.error, undefined);
  assert.equal(outcome.secureConnect, true);
  assert.equal(accepted[0]?.servername, 'localhost');
  assert.equal(accepted[0]?.peerCommonName, 'alice');
});

test('a client refuses a server certificate without the requested name', async (t) => {
  const pki = await makePki();
  const ipOnly = await issueCert(pki.ca, { commonName: 'ip-only', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const { port, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, ipOnly)));

  const outcome = await attempt(t, clientTlsOptions(material(pki.ca, pki.alice), { host: 'localhost', port }));

  assert.equal(outcome.secureConnect, false);
  assert.equal(outcome.error?.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  assert.equal(accepted.length, 0);
});

test('a client refuses a server certificate from another CA', async (t) => {
  const pki = await makePki();
  const otherCa = await createCa();
  const { port } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const outcome = await attempt(t, clientTlsOptions(material(otherCa, pki.alice), { host: '127.0.0.1', port }));

  // OpenSSL sends the server's CA along with its certificate; the client does not trust that CA.
  assert.equal(outcome.secureConnect, false);
  assert.equal(outcome.error?.code, 'SELF_SIGNED_CERT_IN_CHAIN');
});

test('the server refuses a client certificate from another CA', async (t) => {
  const pki = await makePki();
  const otherCa = await createCa();
  const mallory = await issueCert(otherCa, { commonName: 'mallory', usage: 'client' });
  const { port, server, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const serverError = nextClientError(server);
  const outcome = await attempt(t, clientTlsOptions(material(pki.ca, mallory), { host: '127.0.0.1', port }));
  const { socket } = await serverError;

  // Node verifies the client chain after the handshake and destroys the socket, so the reason is
  // on the socket, not in the error; the client only sees the connection close with no data.
  assert.equal(socket.authorizationError, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  assert.equal(accepted.length, 0);
  assert.equal(outcome.receivedBytes, 0);
});

test('the server refuses a client without a certificate', async (t) => {
  const pki = await makePki();
  const { port, server, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const serverError = nextClientError(server);
  const {
    cert: _cert,
    key: _key,
    ...noCertificate
  } = clientTlsOptions(material(pki.ca, pki.alice), {
    host: '127.0.0.1',
    port,
  });
  const outcome = await attempt(t, noCertificate);
  const { error } = await serverError;

  assert.equal(error.code, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
  assert.equal(outcome.error?.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
  assert.equal(accepted.length, 0);
});

test('the server refuses a server certificate used as a client certificate (clientAuth EKU)', async (t) => {
  const pki = await makePki();
  const { port, server, accepted } = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));

  const serverError = nextClientError(server);
  await attempt(t, clientTlsOptions(material(pki.ca, pki.server), { host: '127.0.0.1', port }));
  const { socket } = await serverError;

  assert.equal(socket.authorizationError, 'INVALID_PURPOSE');
  assert.equal(accepted.length, 0);
});

test('a TLS 1.2 client is refused by default and accepted with an AEAD suite when 1.2 is allowed', async (t) => {
  const pki = await makePki();
  const strict = await startServer(t, serverTlsOptions(material(pki.ca, pki.server)));
  const lenient = await startServer(t, serverTlsOptions(material(pki.ca, pki.server), { minVersion: 'TLSv1.2' }));
  const tls12Client = (port: number) => ({
    ...clientTlsOptions(material(pki.ca, pki.alice), { host: '127.0.0.1', port, minVersion: 'TLSv1.2' }),
    maxVersion: 'TLSv1.2' as const,
  });

  const strictError = nextClientError(strict.server);
  const refused = await attempt(t, tls12Client(strict.port));
  assert.equal((await strictError).error.code, 'ERR_SSL_UNSUPPORTED_PROTOCOL');
  assert.equal(refused.error?.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');

  const accepted = await attempt(t, tls12Client(lenient.port));
  assert.equal(accepted.error, undefined);
  assert.equal(accepted.protocol, 'TLSv1.2');
  assert.equal(accepted.cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
  assert.equal(lenient.accepted[0]?.peerCommonName, 'alice');
});
