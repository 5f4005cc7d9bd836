/** Shared fixtures for the TLS tests: temp dirs, throwaway PKI, loopback servers and connect attempts. */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import { createCa, issueCert } from '../../src/tls/ca.js';
import type { Ca, CertKeyPem } from '../../src/tls/ca.js';
import type { TlsMaterial } from '../../src/tls/options.js';

export async function makeTempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function material(ca: Ca, leaf: CertKeyPem): TlsMaterial {
  return { ca: Buffer.from(ca.certPem), cert: Buffer.from(leaf.certPem), key: Buffer.from(leaf.keyPem) };
}

/** A CA with a server certificate for localhost/127.0.0.1/::1 and a client certificate 'alice'. */
export interface Pki {
  ca: Ca;
  server: CertKeyPem;
  alice: CertKeyPem;
}

export async function makePki(): Promise<Pki> {
  const ca = await createCa();
  const server = await issueCert(ca, {
    commonName: 'netprobe-server',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const alice = await issueCert(ca, { commonName: 'alice', usage: 'client' });
  return { ca, server, alice };
}

export interface AcceptedConnection {
  peerCommonName: unknown;
  servername: string | false;
  alpnProtocol: string | false | null;
  protocol: string | null;
}

export interface TestServer {
  port: number;
  server: tls.Server;
  /** Every connection that completed the handshake and passed client verification. */
  accepted: AcceptedConnection[];
}

/** A TLS server on 127.0.0.1, port 0, that records each accepted peer and then ends the connection. */
export async function startServer(t: TestContext, options: tls.TlsOptions): Promise<TestServer> {
  const accepted: AcceptedConnection[] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(options, (socket) => {
    accepted.push({
      peerCommonName: socket.getPeerCertificate().subject?.CN,
      servername: (socket as tls.TLSSocket & { servername: string | false }).servername,
      alpnProtocol: socket.alpnProtocol,
      protocol: socket.getProtocol(),
    });
    socket.end();
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    if (server.listening) {
      server.close();
      await once(server, 'close');
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, server, accepted };
}

export interface ClientOutcome {
  /** The client finished its side of the handshake ('secureConnect'). */
  secureConnect: boolean;
  error: (Error & { code?: string }) | undefined;
  alpnProtocol: string | false | null;
  protocol: string | null;
  cipher: string | undefined;
  receivedBytes: number;
}

/** Connects, reads until the socket closes and reports what happened; never rejects. */
export function attempt(t: TestContext, options: tls.ConnectionOptions): Promise<ClientOutcome> {
  const socket = tls.connect(options);
  t.after(() => socket.destroy());
  const outcome: ClientOutcome = {
    secureConnect: false,
    error: undefined,
    alpnProtocol: null,
    protocol: null,
    cipher: undefined,
    receivedBytes: 0,
  };
  socket.on('secureConnect', () => {
    outcome.secureConnect = true;
    outcome.alpnProtocol = socket.alpnProtocol;
    outcome.protocol = socket.getProtocol();
    outcome.cipher = socket.getCipher().name;
  });
  socket.on('data', (chunk: Buffer) => {
    outcome.receivedBytes += chunk.length;
  });
  socket.on('error', (err) => {
    outcome.error ??= err;
  });
  return new Promise((resolve) => socket.on('close', () => resolve(outcome)));
}

/** Resolves with the error and socket of the server's next 'tlsClientError'. */
export async function nextClientError(server: tls.Server): Promise<{ error: Error & { code?: string }; socket: tls.TLSSocket }> {
  const [error, socket] = (await once(server, 'tlsClientError')) as [Error & { code?: string }, tls.TLSSocket];
  return { error, socket };
}
