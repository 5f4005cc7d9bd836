/**
 * Self probes (capability 'self-ping'): PINGs on the loaded connection itself, answered by the
 * server between the payload's frames, against the real server. New client and new server: both
 * probe kinds, per direction; a new client against a server without the capability, and a client
 * of today's protocol against the new server, still measure; a PING flood during a transfer is cut.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import type { Message } from '../../src/protocol/messages.js';
import type { Result } from '../../src/protocol/result.js';
import type { RunningServer } from '../../src/server/server.js';
import { probe } from '../../src/client/probe.js';
import { parseEndpoint } from '../../src/client/endpoint.js';
import { type ClientFixture, clientFixture, fixtureServer } from '../client/helpers/setup.js';
import { WireClient } from '../helpers/wire.js';

let fx: ClientFixture;
before(async () => {
  fx = await clientFixture(['alice']);
});
after(() => fx.cleanup());

function server(t: { after(fn: () => Promise<void>): void }): Promise<RunningServer> {
  return fixtureServer(fx, t);
}

async function measure(s: RunningServer, direction: 'download' | 'upload', durationMs = 1_000): Promise<Result> {
  const { result } = await probe({
    endpoint: parseEndpoint(`127.0.0.1:${s.port}`),
    tls: fx.client,
    file: '1MiB',
    durationMs,
    direction,
    clientName: 'alice',
    loadedPingIntervalMs: 20,
  });
  assert.equal(result.error, null, JSON.stringify(result.error));
  return result;
}

/** Reads messages until one of `type` arrives; returns it with the messages skipped before it. */
async function until(w: WireClient, type: Message['type']): Promise<{ found: Message | undefined; before: Message[] }> {
  const seen: Message[] = [];
  for (;;) {
    const m = await w.next();
    if (m === undefined || m.type === type) return { found: m, before: seen };
    seen.push(m);
  }
}

describe('self probes', () => {
  for (const direction of ['download', 'upload'] as const) {
    test(`${direction} in duration mode: foreign and self probes, rpm their mean`, async (t) => {
      const s = await server(t);
      const r = await measure(s, direction);
      assert.ok(r.rpmProbes! >= 1 && r.rpmSelfProbes! >= 1, `probes: foreign ${r.rpmProbes}, self ${r.rpmSelfProbes}`);
      assert.ok(r.rpmForeign! > 0 && r.rpmSelf! > 0);
      // rpm = (foreign + self) / 2 of the unrounded figures: within a round trip per minute of the rounded ones'.
      assert.ok(Math.abs(r.rpm! - (r.rpmForeign! + r.rpmSelf!) / 2) <= 1, JSON.stringify([r.rpm, r.rpmForeign, r.rpmSelf]));
    });
  }

  test('a file-mode download has no room for a PONG: self figures present, no self probes', async (t) => {
    const s = await server(t);
    const { result: r } = await probe({
      endpoint: parseEndpoint(`127.0.0.1:${s.port}`),
      tls: fx.client,
      file: '1MiB',
      clientName: 'alice',
      loadedPingIntervalMs: 1,
    });
    assert.equal(r.error, null);
    assert.equal(r.rpmSelfProbes, 0);
    assert.equal(r.rpmSelf, null);
    assert.equal(r.rpm, r.rpmForeign);
  });

  test('a new client against a server without self-ping measures with foreign probes only, and its result has no self fields', async (t) => {
    const s = await server(t);
    const { SERVER_CAPABILITIES } = await import('../../src/server/connection.js');
    SERVER_CAPABILITIES.splice(SERVER_CAPABILITIES.indexOf('self-ping'), 1);
    t.after(() => void SERVER_CAPABILITIES.push('self-ping'));
    const r = await measure(s, 'download');
    assert.ok(r.rpm! > 0 && r.rpmProbes! >= 1);
    for (const field of ['rpmForeign', 'rpmSelf', 'rpmSelfProbes']) assert.equal(Object.hasOwn(r, field), false, field);
  });

  test("today's client (no 'self-ping'): a PING sent during a download is read only after it, as before", async (t) => {
    const s = await server(t);
    const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients.alice! });
    t.after(() => w.close());
    w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: ['duration', 'report', 'upload', 'streams'] });
    assert.equal((await w.next())?.type, 'WELCOME');
    w.send({ type: 'GET_FILE', name: '1MiB', durationMs: 300 });
    assert.equal((await w.next())?.type, 'FILE_META');
    w.send({ type: 'PING', seq: 7 });
    const { found, before: data } = await until(w, 'DATA_END');
    assert.equal(found?.type, 'DATA_END');
    assert.ok(!data.some((m) => m.type === 'PONG'), 'no PONG between the DATA frames');
    const pong = await w.next();
    assert.ok(pong?.type === 'PONG' && pong.seq === 7, JSON.stringify(pong));
  });

  test('with self-ping the PONG comes between the DATA frames; a PING flood during the transfer is cut with ERROR NETPROBE_LIMIT', async (t) => {
    const s = await server(t);
    const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients.alice! });
    t.after(() => w.close());
    w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: ['duration', 'self-ping'] });
    assert.equal((await w.next())?.type, 'WELCOME');
    w.send({ type: 'GET_FILE', name: '1MiB', durationMs: 3_000 });
    assert.equal((await w.next())?.type, 'FILE_META');
    w.send({ type: 'PING', seq: 1 });
    const { found } = await until(w, 'PONG');
    assert.ok(found?.type === 'PONG' && found.seq === 1);
    for (let seq = 2; seq < 500; seq++) w.send({ type: 'PING', seq });
    const { found: error } = await until(w, 'ERROR');
    assert.ok(error?.type === 'ERROR' && error.code === 'NETPROBE_LIMIT', JSON.stringify(error));
    await w.closed();
  });
});
