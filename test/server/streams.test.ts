/**
 * Parallel streams (--streams N) against the real server over TLS on loopback: N connections for
 * one measurement in either direction, the aggregate and per-stream figures, and each stream
 * counted by the server's transfer limit and BUSY rule.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningServer } from '../../src/server/server.js';
import type { ServerConfigInput } from '../../src/server/config.js';
import { type ProbeConfig, probe } from '../../src/client/probe.js';
import { parseEndpoint } from '../../src/client/endpoint.js';
import type { Result } from '../../src/protocol/result.js';
import { type ClientFixture, clientFixture, fixtureServer } from '../client/helpers/setup.js';

let fx: ClientFixture;
before(async () => {
  fx = await clientFixture(['alice']);
});
after(() => fx.cleanup());

function server(t: { after(fn: () => Promise<void>): void }, extra: Partial<ServerConfigInput> = {}): Promise<RunningServer> {
  return fixtureServer(fx, t, extra);
}

function config(s: RunningServer, extra: Partial<ProbeConfig>): ProbeConfig {
  return { endpoint: parseEndpoint(`127.0.0.1:${s.port}`), tls: fx.client, file: '1MiB', clientName: 'alice', ...extra };
}

/** The per-stream shares add up to the aggregate (each is rounded to 1 kbit/s). */
function assertAggregate(r: Result, streams: number): void {
  assert.equal(r.error, null, JSON.stringify(r.error));
  assert.equal(r.streams, streams);
  assert.equal(r.streamsMbps?.length, streams);
  assert.ok(
    r.streamsMbps!.every((v) => v > 0),
    JSON.stringify(r.streamsMbps),
  );
  const sum = r.streamsMbps!.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - r.throughputMbps!) <= streams * 0.001 + 1e-9, `streams ${sum} = aggregate ${r.throughputMbps}`);
  assert.ok(r.transferMs! > 0 && r.transferMs! <= r.downloadMs!, 'the common interval lies within the measurement');
}

describe('parallel streams', () => {
  test('download, duration mode, 4 streams: aggregate over the common interval, per-stream shares, all bytes', async (t) => {
    const s = await server(t);
    const { result } = await probe(config(s, { durationMs: 600, streams: 4 }));
    assertAggregate(result, 4);
    assert.ok(result.bytes > 0);
    assert.ok(result.samplesMbps.length >= 1);
    assert.ok(result.rpmProbes! >= 1);
  });

  test('download, file mode, 2 streams: every stream hashed, bytes = both files', async (t) => {
    const s = await server(t);
    const { result } = await probe(config(s, { streams: 2 }));
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.equal(result.bytes, 2 * 1024 * 1024);
    assert.equal(result.sha256Ok, true);
    assert.equal(result.streams, 2);
  });

  test('upload, duration mode, 4 streams: the server times each stream on a shared clock', async (t) => {
    const s = await server(t);
    const { result } = await probe(config(s, { direction: 'upload', durationMs: 600, streams: 4 }));
    assertAggregate(result, 4);
    assert.equal(result.direction, 'upload');
    assert.equal(typeof result.serverLimited, 'boolean');
  });

  test('one stream: no streams fields (as before)', async (t) => {
    const s = await server(t);
    const { result } = await probe(config(s, {}));
    assert.equal(result.error, null);
    assert.equal(Object.hasOwn(result, 'streams'), false);
    assert.equal(Object.hasOwn(result, 'streamsMbps'), false);
  });

  test('each stream takes a transfer slot: 3 slots run 3 streams, 4 streams get BUSY as a whole', async (t) => {
    const s = await server(t, { maxConcurrentTransfers: 3, busyRetryAfterMs: 10 });
    const three = await probe(config(s, { durationMs: 300, streams: 3 }));
    assert.equal(three.result.error, null, JSON.stringify(three.result.error));
    const four = await probe(config(s, { durationMs: 300, streams: 4, maxBusyRetries: 2, maxBusyWaitMs: 20 }));
    assert.equal(four.result.error?.code, 'NETPROBE_BUSY');
    assert.equal(four.result.busyRetries, 2);
    // The slots are free again afterwards: the cut streams were ended, not left running.
    const again = await probe(config(s, { durationMs: 300, streams: 3 }));
    assert.equal(again.result.error, null, JSON.stringify(again.result.error));
  });

  test('out of range: a usage error', async (t) => {
    const s = await server(t);
    await assert.rejects(probe(config(s, { streams: 17 })), { code: 'NETPROBE_USAGE' });
  });
});
