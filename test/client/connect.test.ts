import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connectTls } from '../../src/client/connect.js';
import { Session } from '../../src/client/session.js';
import { type ClientFixture, clientFixture } from './helpers/setup.js';
import { FakeServer } from './helpers/fake-server.js';
import { loadTlsMaterial } from '../../src/tls/options.js';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('connectTls', () => {
  let fx: ClientFixture;
  let server: FakeServer;
  before(async () => {
    fx = await clientFixture();
    server = await FakeServer.start({ tls: fx.server });
  });
  after(async () => {
    await server.close();
    await fx.cleanup();
  });

  test('times TCP connect and TLS handshake; no DNS for an IP literal', async (t) => {
    const c = await connectTls({ endpoint: server.endpoint, tls: fx.client });
    t.after(() => c.socket.destroy());
    assert.equal(c.timings.dnsMs, null);
    assert.ok(c.timings.connectMs > 0 && c.timings.tlsMs > 0);
    assert.equal(c.tlsVersion, 'TLSv1.3');
    assert.match(c.cipher ?? '', /^TLS_/);
    assert.equal(c.socket.alpnProtocol, 'netprobe/1');
  });

  test('times DNS for a host name (injected resolver)', async (t) => {
    const c = await connectTls({
      endpoint: { host: 'localhost', port: server.port },
      tls: fx.client,
      lookup: async () => ({ address: '127.0.0.1', family: 4 }),
    });
    t.after(() => c.socket.destroy());
    assert.ok(c.timings.dnsMs !== null && c.timings.dnsMs >= 0);
    assert.equal(c.address, '127.0.0.1');
  });

  test('a failed lookup is NETPROBE_DNS', async () => {
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' });
    await assert.rejects(
      connectTls({ endpoint: { host: 'nowhere.invalid', port: 1 }, tls: fx.client, lookup: () => Promise.reject(notFound) }),
      { code: 'NETPROBE_DNS' },
    );
  });

  test('a lookup that never answers is NETPROBE_DNS after the DNS timeout', async () => {
    await assert.rejects(
      connectTls({
        endpoint: { host: 'slow.invalid', port: 1 },
        tls: fx.client,
        timeouts: { dnsMs: 50 },
        lookup: () => new Promise(() => undefined),
      }),
      (err: Error & { code?: string }) => err.code === 'NETPROBE_DNS' && /timed out after 50 ms/.test(err.message),
    );
  });

  test('a refused connection is NETPROBE_CONNECT_REFUSED and names the server', async () => {
    const port = await closedPort();
    const timings = { dnsMs: null, connectMs: null, tlsMs: null };
    await assert.rejects(
      connectTls({ endpoint: { host: '127.0.0.1', port }, tls: fx.client, timings }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'NETPROBE_CONNECT_REFUSED');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      },
    );
    assert.equal(timings.connectMs, null);
  });

  test('a server that accepts TCP but never speaks TLS: NETPROBE_TLS_HANDSHAKE after the TLS timeout', async (t) => {
    const silent = net.createServer((s) => s.on('error', () => undefined)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    t.after(() => {
      silent.close();
    });
    const timings = { dnsMs: null, connectMs: null as number | null, tlsMs: null };
    await assert.rejects(
      connectTls({
        endpoint: { host: '127.0.0.1', port: (silent.address() as AddressInfo).port },
        tls: fx.client,
        timeouts: { tlsMs: 100 },
        timings,
      }),
      (err: Error & { code?: string }) => err.code === 'NETPROBE_TLS_HANDSHAKE' && /timed out after 100 ms/.test(err.message),
    );
    assert.ok(timings.connectMs !== null, 'the connect phase completed and is reported');
  });

  test('a server certificate from another CA is NETPROBE_TLS_UNAUTHORIZED', async () => {
    await assert.rejects(connectTls({ endpoint: server.endpoint, tls: fx.strangerCa }), { code: 'NETPROBE_TLS_UNAUTHORIZED' });
  });

  test('a name the server certificate does not carry is NETPROBE_TLS_UNAUTHORIZED', async () => {
    await assert.rejects(
      connectTls({
        endpoint: { host: 'elsewhere.test', port: server.port },
        tls: fx.client,
        lookup: async () => ({ address: '127.0.0.1', family: 4 }),
      }),
      { code: 'NETPROBE_TLS_UNAUTHORIZED' },
    );
  });

  test('a client certificate the server refuses surfaces as NETPROBE_TLS_UNAUTHORIZED on the first request', async (t) => {
    const stranger = await loadTlsMaterial({ ca: fx.pki.ca, cert: fx.pki.stranger.cert, key: fx.pki.stranger.key });
    // TLS 1.3: our side of the handshake completes before the server has judged our certificate.
    const c = await connectTls({ endpoint: server.endpoint, tls: stranger }).catch((err: unknown) => err);
    if (c instanceof Error) {
      assert.equal((c as Error & { code?: string }).code, 'NETPROBE_TLS_UNAUTHORIZED');
      return;
    }
    const connected = c as Awaited<ReturnType<typeof connectTls>>;
    const session = new Session(connected.socket, server.endpoint, {}, connected.reader);
    t.after(() => session.close());
    await assert.rejects(session.hello(), { code: 'NETPROBE_TLS_UNAUTHORIZED' });
  });
});
