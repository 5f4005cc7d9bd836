/**
 * The peer identity cache (src/server/peer-identity.ts): node's legacy certificate object is built
 * once per distinct certificate; what revocation and the per-client limit read is what it gave.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { PeerIdentities } from '../../src/server/peer-identity.js';

type PeerSocket = Pick<TLSSocket, 'getPeerX509Certificate' | 'getPeerCertificate'>;

/** node's X509Certificate.validTo form. */
const VALID_TO = 'Dec  6 23:10:17 2027 GMT';

function fakeSocket(cert: { fingerprint256: string; cn?: string; serialNumber: string } | undefined, parses: { n: number }): PeerSocket {
  return {
    getPeerX509Certificate: () => (cert === undefined ? undefined : ({ fingerprint256: cert.fingerprint256, validTo: VALID_TO } as never)),
    getPeerCertificate: () => {
      parses.n++;
      return { subject: cert?.cn === undefined ? {} : { CN: cert.cn }, serialNumber: cert?.serialNumber } as unknown as PeerCertificate;
    },
  } as PeerSocket;
}

test('one legacy parse per distinct certificate; its name, fingerprint, serial and end of validity on every connection', () => {
  const identities = new PeerIdentities();
  const parses = { n: 0 };
  const alice = { fingerprint256: 'AA:01', cn: 'alice', serialNumber: '0A' };
  const bob = { fingerprint256: 'BB:02', cn: 'bob', serialNumber: '0B' };
  for (let i = 0; i < 3; i++) {
    const validToMs = Date.UTC(2027, 11, 6, 23, 10, 17);
    assert.deepEqual(identities.of(fakeSocket(alice, parses)), { client: 'alice', fingerprint256: 'AA:01', serialNumber: '0A', validToMs });
    assert.deepEqual(identities.of(fakeSocket(bob, parses)), { client: 'bob', fingerprint256: 'BB:02', serialNumber: '0B', validToMs });
  }
  assert.equal(parses.n, 2);
  // No certificate: no identity, nothing parsed; no common name: an identity without a client.
  assert.equal(identities.of(fakeSocket(undefined, parses)), undefined);
  assert.equal(identities.of(fakeSocket({ fingerprint256: 'CC:03', serialNumber: '0C' }, parses))?.client, undefined);
  assert.equal(parses.n, 3);
});

test('bounded: beyond its size the oldest certificate is forgotten (and parsed again when it comes back)', () => {
  const identities = new PeerIdentities(2);
  const parses = { n: 0 };
  const cert = (i: number) => ({ fingerprint256: `FP:${i}`, cn: `c${i}`, serialNumber: `${i}` });
  for (const i of [1, 2, 3]) identities.of(fakeSocket(cert(i), parses));
  assert.equal(identities.size, 2);
  identities.of(fakeSocket(cert(3), parses));
  assert.equal(parses.n, 3);
  identities.of(fakeSocket(cert(1), parses));
  assert.equal(parses.n, 4);
});
