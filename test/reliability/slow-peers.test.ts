/**
 * Slow and idle peers: 500 connections that stall in the TLS handshake, dribble a ClientHello or a
 * frame one byte a second, or go quiet after HELLO. The handshake, frame and idle timeouts reclaim
 * every one; the connection limit holds against more; an honest client measures meanwhile.
 *
 * Two servers, so that nothing depends on how fast a busy machine opens 500 connections: the first
 * has timeouts far beyond the test (the limit and the honest client are checked with every slow peer
 * still connected, whatever the load); the second has short timeouts, at least twice the time the
 * first run took to open its peers, and the reclaim times are checked against them.
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
import { type RunningServer, startServer } from '../../src/server/server.js';
import { type TlsMaterial, clientTlsOptions, loadTlsMaterial } from '../../src/tls/options.js';
import { type TestPki, makePki } from '../helpers/pki.js';

/** The shortest handshake and frame timeouts used (the idle timeout is one second longer). */
const MIN_TIMEOUT_MS = 4_000;
/** Timeouts of the first server: no slow peer is reclaimed while the test runs. */
const NEVER_MS = 10 * 60_000;
const MAX_CONNECTIONS = 560;
const PEERS = { silentTcp: 150, dribbleHello: 100, dribbleFrame: 125, idleAfterHello: 125 };

type Kind = keyof typeof PEERS;

interface Peer {
  kind: Kind;
  openedAt: number;
  /** When its set-up was done (TCP connected, TLS up, or WELCOME received): the server's timer started by then. */
  readyAt?: number;
  closedAt?: number;
  /** Code of an ERROR frame the server sent before closing, if any. */
  error?: string;
  socket: net.Socket;
}

/** Polls `ready` every 10 ms; fails with `what` after `timeoutMs` instead of spinning for ever. */
async function until(ready: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!ready()) {
    if (performance.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Setup {
  pki: TestPki;
  work: string;
  material: TlsMaterial;
}

async function slowServer(
  t: { after(fn: () => Promise<void>): void },
  { pki, work }: Setup,
  name: string,
  timeoutMs: number,
): Promise<RunningServer> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(work, `${name}.db`),
    builtinFiles: ['64KiB'],
    statsIntervalMs: 0,
    handshakeTimeoutMs: timeoutMs,
    frameTimeoutMs: timeoutMs,
    idleTimeoutMs: timeoutMs + 1_000,
    maxConnections: MAX_CONNECTIONS,
    maxConnectionsPerClient: 400,
  });
  t.after(() => server.close(500));
  return server;
}

/** Opens the 500 slow peers and waits until the server counts them all; `openMs` is how long that took. */
async function openPeers(
  t: { after(fn: () => void): void },
  server: RunningServer,
  material: TlsMaterial,
): Promise<{ peers: Peer[]; openMs: number }> {
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
      const socket = net.connect(server.port, '127.0.0.1', () => {
        peer.readyAt = performance.now();
        resolve();
      });
      const peer = track(kind, socket);
      // A TLS record header announcing a 512-byte ClientHello that never arrives.
      if (kind === 'dribbleHello') dribble(socket, Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    });
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
          if (m?.type === 'WELCOME') {
            peer.readyAt = performance.now();
            resolve();
          }
        }
      });
      socket.once('secureConnect', () => {
        if (kind === 'dribbleFrame') {
          dribble(socket, hello);
          peer.readyAt = performance.now();
          resolve();
        } else {
          socket.write(hello);
        }
      });
      socket.once('close', () => reject(new Error(`${kind} peer closed during set-up`)));
    });

  const startedAt = performance.now();
  const opening: Promise<void>[] = [];
  for (let i = 0; i < PEERS.silentTcp; i++) opening.push(tcp('silentTcp'));
  for (let i = 0; i < PEERS.dribbleHello; i++) opening.push(tcp('dribbleHello'));
  for (let i = 0; i < PEERS.dribbleFrame; i++) opening.push(tlsPeer('dribbleFrame'));
  for (let i = 0; i < PEERS.idleAfterHello; i++) opening.push(tlsPeer('idleAfterHello'));
  await Promise.all(opening);
  assert.equal(peers.length, 500);
  await until(() => server.context.metrics.sockets >= peers.length, 'the server counts every slow peer');
  return { peers, openMs: performance.now() - startedAt };
}

test(
  '500 slow and idle peers are reclaimed by the timeouts; the limit holds; an honest client keeps measuring',
  { timeout: 180_000 },
  async (t) => {
    const pki = await makePki(['honest', 'slow']);
    const work = await mkdtemp(join(tmpdir(), 'netprobe-slow-'));
    t.after(async () => {
      await rm(work, { recursive: true, force: true });
      await pki.cleanup();
    });
    const setup: Setup = { pki, work, material: await loadTlsMaterial({ ca: pki.ca, ...pki.clients.slow! }) };

    // 1. Timeouts beyond the test: the limit and an honest client, with every slow peer connected.
    const holding = await slowServer(t, setup, 'holding', NEVER_MS);
    const { metrics } = holding.context;
    const refused: string[] = [];
    holding.context.events.on('connectionRefused', ({ reason }) => refused.push(reason));
    const { peers: held, openMs } = await openPeers(t, holding, setup.material);
    const attackers = held.length;
    let peakSockets = metrics.sockets;

    // The limit: 100 more connections, of which only MAX_CONNECTIONS - 500 fit.
    const extra: net.Socket[] = [];
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(holding.port, '127.0.0.1');
            extra.push(s);
            s.on('error', () => undefined);
            s.once('connect', () => resolve());
          }),
      ),
    );
    await until(
      () => refused.filter((r) => r === 'max_connections').length + (metrics.sockets - attackers) >= 100,
      'each extra connection is accepted or refused',
    );
    peakSockets = Math.max(peakSockets, metrics.sockets);
    assert.equal(metrics.sockets, MAX_CONNECTIONS, 'accepted up to the limit');
    assert.equal(refused.filter((r) => r === 'max_connections').length, 100 - (MAX_CONNECTIONS - attackers));
    for (const s of extra) s.destroy();
    await until(() => metrics.sockets <= attackers, 'the extra connections are gone');
    assert.ok(peakSockets <= MAX_CONNECTIONS);

    // Meanwhile an honest client measures and reports, with every slow peer still connected.
    const client = new NetprobeClient({
      servers: [{ host: '127.0.0.1', port: holding.port }],
      tls: await loadTlsMaterial({ ca: pki.ca, ...pki.clients.honest! }),
      file: '64KiB',
      schedule: { kind: 'interval', intervalMs: 1_000, jitter: 0 },
      outboxPath: join(work, 'outbox.db'),
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
    assert.equal(
      held.filter((p) => p.closedAt === undefined).length,
      attackers,
      'the honest client measured while every slow peer was connected',
    );
    for (const p of held) p.socket.destroy();

    // 2. Short timeouts, at least twice the time opening the peers took on this machine just now.
    const timeoutMs = Math.max(MIN_TIMEOUT_MS, Math.ceil(2 * openMs));
    const reclaiming = await slowServer(t, setup, 'reclaiming', timeoutMs);
    const { peers, openMs: reopenMs } = await openPeers(t, reclaiming, setup.material);
    t.diagnostic(`opening 500 peers took ${Math.round(openMs)} ms, then ${Math.round(reopenMs)} ms; timeouts ${timeoutMs} ms`);

    // Every slow peer is reclaimed by its timeout, not earlier: at least the timeout after it started
    // connecting, at most the timeout (plus lateness) after its set-up was done. A timer may fire late
    // on a busy machine; later than the time opening the peers took (or 3 s) means it was not armed.
    await until(() => peers.every((p) => p.closedAt !== undefined), 'every slow peer is closed', 4 * timeoutMs + 60_000);
    const slack = Math.max(3_000, openMs, reopenMs);
    const check = (kind: Kind, timerMs: number, startsWithinMs = 0) => {
      for (const p of peers.filter((x) => x.kind === kind)) {
        const [lived, sinceReady] = [p.closedAt! - p.openedAt, p.closedAt! - p.readyAt!];
        assert.ok(
          lived >= timerMs - 100 && sinceReady < timerMs + startsWithinMs + slack,
          `${kind} lived ${Math.round(lived)} ms, ${Math.round(sinceReady)} ms after its set-up (timeout ${timerMs} ms, slack ${Math.round(slack)} ms)`,
        );
      }
    };
    check('silentTcp', timeoutMs);
    check('dribbleHello', timeoutMs);
    // The frame timer starts with the first byte of the dribbled frame, a second after the handshake.
    check('dribbleFrame', timeoutMs, 1_000);
    check('idleAfterHello', timeoutMs + 1_000);
    for (const p of peers.filter((x) => x.kind === 'dribbleFrame' || x.kind === 'idleAfterHello'))
      assert.equal(p.error, 'NETPROBE_TIMEOUT');
    const m = reclaiming.context.metrics;
    await until(() => m.sockets === 0 && m.openConnections === 0, 'the server holds no connection');
    assert.ok(m.handshakeFailures >= PEERS.silentTcp + PEERS.dribbleHello, 'handshake timeouts are counted');
  },
);
