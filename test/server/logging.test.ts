import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import { captureLogs } from '../helpers/logs.js';
import { makePki } from '../helpers/pki.js';
import { WireClient, sampleResult } from '../helpers/wire.js';

const PER_CONNECTION = ['connection', 'transfer', 'report'];

/** One measurement (HELLO, download, REPORT) against a server logging at `level`; returns its log lines once a 'stats' line counted it. */
async function oneMeasurement(t: test.TestContext, level: string): Promise<Record<string, unknown>[]> {
  const pki = await makePki(['alice']);
  const work = await mkdtemp(join(tmpdir(), 'netprobe-logging-'));
  const logs = captureLogs(level);
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      ca: pki.ca,
      cert: pki.serverCert,
      key: pki.serverKey,
      store: join(work, 'r.db'),
      builtinFiles: ['64KiB'],
      statsIntervalMs: 50,
    },
    { logger: logs.logger },
  );
  t.after(async () => {
    await server.close(1000);
    await rm(work, { recursive: true, force: true });
    await pki.cleanup();
  });
  const c = await WireClient.connect(server.port, { ca: pki.ca, ...pki.clients.alice! });
  t.after(() => c.close());
  await c.hello();
  await c.download('64KiB');
  c.send({ type: 'REPORT', results: [sampleResult({ startedAt: new Date().toISOString(), file: '64KiB' })] });
  assert.equal((await c.next())?.type, 'ACK');
  const counted = (l: Record<string, unknown>) => {
    const totals = l.totals as { connections?: number; transfers?: number; results?: number } | undefined;
    return l.msg === 'stats' && totals?.connections === 1 && totals.transfers === 1 && totals.results === 1;
  };
  // The stats line comes every 50 ms; waiting for the one that has counted the measurement.
  for (let i = 0; i < 200 && !logs.lines.some(counted); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(logs.lines.some(counted), JSON.stringify(logs.lines.filter((l) => l.msg === 'stats').at(-1)));
  return logs.lines;
}

test('at the default level a measurement logs no per-connection line; the stats line counts it', async (t) => {
  const lines = await oneMeasurement(t, 'info');
  assert.deepEqual(
    lines.filter((l) => PER_CONNECTION.includes(l.msg as string)),
    [],
  );
  const stats = lines.find((l) => l.msg === 'stats' && (l.totals as { connections: number }).connections === 1)!;
  assert.ok(typeof stats.connectionsPerMin === 'number' && stats.connectionsPerMin > 0);
});

test('at --log-level debug every connection, transfer and report has its line', async (t) => {
  const lines = await oneMeasurement(t, 'debug');
  for (const msg of PER_CONNECTION)
    assert.ok(
      lines.some((l) => l.msg === msg && l.client === 'alice'),
      `a '${msg}' line naming alice`,
    );
  assert.ok(lines.some((l) => l.msg === 'transfer' && l.bytes === 64 * 1024 && l.outcome === 'ok'));
});
