/**
 * The plain-HTTP dashboard cannot be held open by idle peers (issue 17's smaller items): it accepts at
 * most 256 connections at once and closes a connection that sends nothing. Before, 300 of 300 idle
 * connections stayed open for minutes.
 */
import assert from 'node:assert/strict';
import { type Socket, connect } from 'node:net';
import { test } from 'node:test';
import { longOnly } from '../helpers/suite.js';
import { type WebFixture, request, startWebFixture } from './helpers.js';

const CAP = 256;

interface Peer {
  socket: Socket;
  closed: Promise<number>;
}

/** Opens a TCP connection that never sends; `closed` resolves with when the server closed it (ms after open). */
function idlePeer(port: number): Peer {
  const openedAt = performance.now();
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  socket.resume();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now() - openedAt)));
  return { socket, closed };
}

async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)));
  try {
    return await Promise.race([p, pending]);
  } finally {
    clearTimeout(timer);
  }
}

test(`the dashboard holds at most ${CAP} connections; beyond them new ones are closed, and freed capacity serves again`, async (t) => {
  const f: WebFixture = await startWebFixture(['alice']);
  const peers: Peer[] = [];
  t.after(async () => {
    for (const p of peers) p.socket.destroy();
    await f.close();
  });
  const extra = 40;
  for (let i = 0; i < CAP + extra; i++) {
    const p = idlePeer(f.web.port);
    peers.push(p);
    await new Promise<void>((resolve) => {
      p.socket.once('connect', () => resolve());
      p.socket.once('close', () => resolve());
    });
  }
  // The server destroys a connection over its cap as it accepts it; the peers under the cap stay.
  const outcomes = await Promise.all(peers.map((p) => within(p.closed, 3_000)));
  const closed = outcomes.filter((o) => o !== 'pending').length;
  assert.ok(closed >= extra, `${closed} of ${peers.length} closed; at least the ${extra} over the cap must be`);
  assert.ok(closed <= extra + 8, `${closed} closed: connections under the cap must stay`);

  // Once the idle peers go, an honest viewer is served.
  for (const p of peers) p.socket.destroy();
  await Promise.all(peers.map((p) => p.closed));
  const health = await request(new URL('/healthz', f.web.url).href);
  assert.equal(health.status, 200);
});

test('a dashboard connection that sends nothing is closed (silent-socket timeout, 30 s)', { ...longOnly, timeout: 120_000 }, async (t) => {
  const f: WebFixture = await startWebFixture(['alice']);
  const peer = idlePeer(f.web.port);
  t.after(async () => {
    peer.socket.destroy();
    await f.close();
  });
  // Node's own defaults (headers within 60 s, checked every 30 s) would close it after 60–90 s.
  const outcome = await within(peer.closed, 55_000);
  assert.notEqual(outcome, 'pending', 'the silent connection was still open after 55 s');
  assert.ok((outcome as number) >= 25_000, `closed after ${Math.round(outcome as number)} ms, before the 30 s allowance`);
});
