import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { LoadSnapshot, Point, Snapshot, StreamEvents, Summary } from '../../src/web/api-types.js';
import { WireClient } from '../helpers/wire.js';
import { bearer, request, startWebFixture } from './helpers.js';

interface StreamEvent {
  event: string;
  data: unknown;
}

/** Reads /api/events as a browser's EventSource would: frames separated by a blank line. */
async function openStream(url: string, token: string) {
  const queue: StreamEvent[] = [];
  let wake: (() => void) | undefined;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(url, { headers: { ...bearer(token), accept: 'text/event-stream' } }, resolve).on('error', reject);
  });
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.+)$/m.exec(frame)?.[1];
      const data = /^data: (.+)$/m.exec(frame)?.[1];
      if (event && data) queue.push({ event, data: JSON.parse(data) });
    }
    wake?.();
  });
  return {
    res,
    /** The next event named `name` (others are skipped). */
    async next<K extends keyof StreamEvents>(name: K): Promise<StreamEvents[K]> {
      for (;;) {
        const i = queue.findIndex((e) => e.event === name);
        if (i >= 0) return queue.splice(i, 1)[0]!.data as StreamEvents[K];
        await new Promise<void>((r) => (wake = r));
      }
    },
    pending: (name: string) => queue.filter((e) => e.event === name),
    close: () => res.destroy(),
  };
}

test('results, summaries and load reach an open stream as they happen; a re-sent result does not', async (t) => {
  const f = await startWebFixture(['alice', 'bob']);
  t.after(() => f.close());
  const stream = await openStream(`${f.web.url}api/events`, f.web.token);
  t.after(() => stream.close());
  assert.equal(stream.res.statusCode, 200);
  assert.match(String(stream.res.headers['content-type']), /^text\/event-stream/);

  const sent = await f.measure('alice', { throughputMbps: 321 });
  const point: Point = await stream.next('result');
  assert.deepEqual(point, {
    id: sent.id,
    client: 'alice',
    t: Date.parse(sent.startedAt),
    mbps: 321,
    responseMs: sent.responseMs,
    downloadMs: sent.downloadMs,
    error: null,
    rpm: null,
  });
  const summary: Summary = await stream.next('summary');
  assert.equal(summary.clients.find((c) => c.client === 'alice')?.lastMbps, 321);

  await f.report('alice', [sent]);
  const second = await f.measure('bob', { throughputMbps: 50 });
  assert.equal((await stream.next('result')).id, second.id, 'the duplicate of the first result was not streamed');
  assert.deepEqual(stream.pending('result'), []);

  // A transfer in flight appears in the load events.
  const c = await WireClient.connect(f.server.port, { ca: f.pki.ca, ...f.pki.clients.bob! });
  t.after(() => c.close());
  await c.hello();
  c.send({ type: 'GET_FILE', name: '64KiB', durationMs: 60_000 });
  assert.equal((await c.next())?.type, 'FILE_META');
  let load: LoadSnapshot;
  do load = await stream.next('load');
  while (load.activeTransfers === 0);
  assert.equal(load.transfers[0]?.client, 'bob');
  assert.equal(load.transfers[0]?.mode, 'duration');
});

test('after a restart the snapshot holds the window read back from the store', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-web-restart-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = join(dir, 'results.db');
  const first = await startWebFixture(['alice'], { store });
  const recent = await first.measure('alice', { startedAt: new Date(Date.now() - 3_600_000).toISOString(), throughputMbps: 10 });
  await first.measure('alice', { startedAt: new Date(Date.now() - 7 * 3_600_000).toISOString() }); // older than the window
  await first.close();

  const second = await startWebFixture(['alice'], { store });
  t.after(() => second.close());
  const r = await request(`${second.web.url}api/snapshot`, { headers: bearer(second.web.token) });
  const snapshot = JSON.parse(r.body) as Snapshot;
  assert.ok(snapshot.serverId.endsWith(`:${second.server.port}`), snapshot.serverId);
  assert.deepEqual(
    snapshot.points.map((p) => p.id),
    [recent.id],
  );
  assert.equal(snapshot.summary.clients[0]?.client, 'alice');
  assert.equal(snapshot.summary.clients[0]?.lastMbps, 10);
  assert.equal(snapshot.load.maxConcurrentTransfers, 256);
});
