/**
 * Slow and idle peers: 500 connections that stall in the TLS handshake, dribble a ClientHello or a
 * frame one byte a second, or go quiet after HELLO. The handshake, frame and idle timeouts reclaim
 * every one; the connection limit holds against more; an honest client measures meanwhile.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { NetprobeClient } from '../../src/client/client.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { startServer } from '../../src/server/server.js';
import { clientTlsOptions, loadTlsMaterial } from '../../src/tls/options.js';
import { makePki } from '../helpers/pki.js';

const HANDSHAKE_TIMEOUT_MS = 4_000;
const FRAME_TIMEOUT_MS = 4_000;
const IDLE_TIMEOUT_MS = 5_000;
const MAX_CONNECTIONS = 560;
const PEERS = { silentTcp: 150, dribbleHello: 100, dribbleFrame: 125, idleAfterHello: 125 };

type Kind = keyof typeof PEERS;

interface Peer {
  kind: Kind;
  openedAt: number;
  closedAt?: number;
  /** Code of an ERROR frame the server sent before closing, if any. */
  error?: string;
  socket: net.Socket;
}

test('500 slow and idle peers are reclaimed by the timeouts; the limit holds; an honest client keeps measuring', { timeout: 120_000 }, async (t) => {
  const pki = await makePki(['honest', 'slow']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-slow-'));
  t.after(async () => {
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const server = await startServer({
    host: '127.0.0.1', port: 0, ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, store: join(work, 'r.db'),
    builtinFiles: ['64KiB'], statsIntervalMs: 0, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, frameTimeoutMs: FRAME_TIMEOUT_MS,
    idleTimeoutMs: IDLE_TIMEOUT_MS, maxConnections: MAX_CONNECTIONS, maxConnectionsPerClient: 400,
  });
  t.after(() => server.close(500));
  const { metrics } = server.context;
  let peakSockets = 0;
  const refused: string[] = [];
  server.context.events.on('connectionRefused', ({ reason }) => refused.push(reason));

  const peers: Peer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  t.after(() => {
    for (const timer of timers) clearInterval(timer);
    for (const p of peers) p.socket.destroy();
  });
  const dribble = (socket: net.Socket, bytes: Buffer) => {
    let at = 0;
    const timer = setInterval(() => {
      if (at < bytes.length && !socket.destroyed) socket.write(bytes.subarray(at, ++at));
    }, 1_000);
    timers.add(timer);
    socket.once('close', () => {
      clearInterval(timer);
      timers.delete(timer);
    });
  };
  const track = (kind: Kind, socket: net.Socket): Peer => {
    const peer: Peer = { kind, openedAt: performance.now(), socket };
    peers.push(peer);
    socket.on('error', () => undefined);
    socket.once('close', () => (peer.closedAt = performance.now()));
    return peer;
  };
  const tcp = (kind: Kind) =>
    new Promise<void>((resolve) => {
      const socket = net.connect(server.port, '127.0.0.1', () => resolve());
      track(kind, socket);
      // A TLS record header announcing a 512-byte ClientHello that never arrives.
      if (kind === 'dribbleHello') dribble(socket, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    });
  const material = await loadTlsMaterial({ ca: pki.ca, ...pki.clients.slow! });
  const secureContext = tls.createSecureContext({ ca: material.ca, cert: material.cert, key: material.key });
  const hello = encodeMessage({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'slow', capabilities: [] });
  const tlsPeer = (kind: Kind) =>
    new Promise<void>((resolve, reject) => {
      const { host, port, ALPNProtocols } = clientTlsOptions(material, { host: '127.0.0.1', port: server.port });
      const socket = tls.connect({ host, port, ALPNProtocols, secureContext });
      const peer = track(kind, socket);
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) {
          const m = item.kind === 'frame' ? parseMessage(item) : undefined;
          if (m?.type === 'ERROR') peer.error = m.code;
          if (m?.type === 'WELCOME') resolve();
        }
      });
      socket.once('secureConnect', () => {
        if (kind === 'dribbleFrame') {
          dribble(socket, hello);
          resolve();
        } else {
          socket.write(hello);
        }
      });
      socket.once('close', () => reject(new Error(`${kind} peer closed during set-up`)));
    });

  const opening: Promise<void>[] = [];
  for (let i = 0; i < PEERS.silentTcp; i++) opening.push(tcp('silentTcp'));
  for (let i = 0; i < PEERS.dribbleHello; i++) opening.push(tcp('dribbleHello'));
  for (let i = 0; i < PEERS.dribbleFrame; i++) opening.push(tlsPeer('dribbleFrame'));
  for (let i = 0; i < PEERS.idleAfterHello; i++) opening.push(tlsPeer('idleAfterHello'));
  await Promise.all(opening);
  const attackers = peers.length;
  assert.equal(attackers, 500);
  while (metrics.sockets < attackers) await new Promise((r) => setImmediate(r));
  peakSockets = metrics.sockets;

  // The limit: 100 more connections, of which only MAX_CONNECTIONS - 500 fit.
  const extra: net.Socket[] = [];
  await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((resolve) => {
    const s = net.connect(server.port, '127.0.0.1');
    extra.push(s);
    s.on('error', () => undefined);
    s.once('connect', () => resolve());
  })));
  while (refused.filter((r) => r === 'max_connections').length + (metrics.sockets - attackers) < 100) await new Promise((r) => setImmediate(r));
  peakSockets = Math.max(peakSockets, metrics.sockets);
  assert.equal(metrics.sockets, MAX_CONNECTIONS, 'accepted up to the limit');
  assert.equal(refused.filter((r) => r === 'max_connections').length, 100 - (MAX_CONNECTIONS - attackers));
  for (const s of extra) s.destroy();
  while (metrics.sockets > attackers) await new Promise((r) => setImmediate(r));

  // Meanwhile an honest client measures and reports, with every slow peer still connected.
  const honestAt = performance.now();
  const client = new NetprobeClient({
    servers: [{ host: '127.0.0.1', port: server.port }], tls: await loadTlsMaterial({ ca: pki.ca, ...pki.clients.honest! }),
    file: '64KiB', schedule: { kind: 'interval', intervalMs: 1_000, jitter: 0 }, outboxPath: join(work, 'outbox.db'),
    probe: { idlePings: 2, loadedPingIntervalMs: 50 },
  });
  t.after(() => client.stop());
  for (let i = 0; i < 5; i++) {
    const [result] = await client.measure();
    assert.equal(result?.error, null, JSON.stringify(result?.error));
  }
  const flushed = await client.flush();
  assert.equal(flushed.error, null);
  assert.equal(flushed.remaining, 0);
  const open = peers.filter((p) => p.closedAt === undefined).length;
  assert.ok(open >= 450, `the honest client measured while ${open} slow peers were connected (${Math.round(performance.now() - honestAt)} ms)`);

  // Every slow peer is reclaimed by its timeout, not earlier.
  while (peers.some((p) => p.closedAt === undefined)) await new Promise((r) => setTimeout(r, 100));
  const lifetime = (kind: Kind) => peers.filter((p) => p.kind === kind).map((p) => p.closedAt! - p.openedAt);
  const slack = 3_000;
  for (const kind of ['silentTcp', 'dribbleHello'] as const) {
    for (const ms of lifetime(kind)) assert.ok(ms >= HANDSHAKE_TIMEOUT_MS - 100 && ms < HANDSHAKE_TIMEOUT_MS + slack, `${kind} lived ${ms} ms`);
  }
  for (const ms of lifetime('dribbleFrame')) assert.ok(ms >= FRAME_TIMEOUT_MS - 100 && ms < FRAME_TIMEOUT_MS + 1_000 + slack, `dribbleFrame lived ${ms} ms`);
  for (const ms of lifetime('idleAfterHello')) assert.ok(ms >= IDLE_TIMEOUT_MS - 100 && ms < IDLE_TIMEOUT_MS + slack, `idle peer lived ${ms} ms`);
  for (const p of peers.filter((x) => x.kind === 'dribbleFrame' || x.kind === 'idleAfterHello')) assert.equal(p.error, 'NETPROBE_TIMEOUT');
  while (metrics.sockets > 0 || metrics.openConnections > 0) await new Promise((r) => setTimeout(r, 50));
  assert.ok(peakSockets <= MAX_CONNECTIONS);
  assert.ok(metrics.handshakeFailures >= PEERS.silentTcp + PEERS.dribbleHello, 'handshake timeouts are counted');
});
