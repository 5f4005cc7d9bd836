/**
 * Scale-out: two `netprobe server` processes (the built CLI) collecting into one PostgreSQL
 * schema, 20 clients configured with both. One collector is killed with SIGKILL mid-run; the
 * clients fail over, re-send what was not acknowledged, and every measurement is stored once.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetprobeClient } from '../../src/client/client.js';
import type { Endpoint } from '../../src/client/endpoint.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { adminQuery, needPostgres, schemaLocation } from './helpers/postgres.js';

const CLIENTS = 20;
const MEASUREMENTS = 8;
const KILL_AFTER = Math.floor((CLIENTS * MEASUREMENTS) / 3);

test(
  'two collectors, one PostgreSQL, 20 failing-over clients: SIGKILL one mid-run, every measurement stored exactly once',
  { timeout: 60_000 },
  async (t) => {
    if (!(await needPostgres(t))) return;
    const names = Array.from({ length: CLIENTS }, (_, i) => `probe-${String(i).padStart(2, '0')}`);
    const pki = await makePki(names);
    const work = await mkdtemp(join(tmpdir(), 'netprobe-collectors-'));
    t.after(async () => {
      await pki.cleanup();
      await rm(work, { recursive: true, force: true });
    });
    const { location, schema } = schemaLocation(t, 'np_collectors');

    // Both start at once on an empty schema: the migration runs once, under its advisory lock.
    const args = [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--ca',
      pki.ca,
      '--cert',
      pki.serverCert,
      '--key',
      pki.serverKey,
      '--store',
      location,
      '--builtin-files',
      '64KiB',
      '--stats-interval',
      '0',
    ];
    // debug: every REPORT has its 'report' line (counted below).
    const collectors = [
      runCli([...args, '--server-id', 'a', '--log-level', 'debug']),
      runCli([...args, '--server-id', 'b', '--log-level', 'debug']),
    ];
    t.after(() => collectors.forEach((c) => c.child.kill('SIGKILL')));
    const listening = await Promise.all(collectors.map((c) => c.waitFor((l) => l.msg === 'listening')));
    assert.ok(
      listening.every((l) => l.store === location),
      'both collectors use the one database',
    );
    const [a, b] = listening.map((l): Endpoint => ({ host: '127.0.0.1', port: Number(l.port) })) as [Endpoint, Endpoint];

    const ca = await readFile(pki.ca);
    const made: string[] = [];
    const clients = await Promise.all(
      names.map(async (name, i) => {
        const tls = { ca, cert: await readFile(pki.clients[name]!.cert), key: await readFile(pki.clients[name]!.key) };
        return new NetprobeClient(
          {
            // Half prefer each collector, so both are busy when one dies.
            servers: i % 2 === 0 ? [a, b] : [b, a],
            tls,
            file: '64KiB',
            schedule: { kind: 'interval', intervalMs: 60_000, jitter: 0 },
            outboxPath: join(work, `${name}.db`),
            reportBackoffBaseMs: 50,
            reportBackoffMaxMs: 400,
            serverRetryBaseMs: 60_000,
            probe: { idlePings: 2, loadedPingIntervalMs: 50 },
          },
          { onResult: (r) => made.push(r.id) },
        );
      }),
    );

    let measured = 0;
    let killedAt = -1;
    const victim = collectors[0]!;
    await Promise.all(
      clients.map(async (c) => {
        for (let k = 0; k < MEASUREMENTS; k++) {
          await c.measure();
          if (++measured === KILL_AFTER) {
            killedAt = measured;
            victim.child.kill('SIGKILL');
          }
        }
      }),
    );
    assert.equal((await victim.exited).signal, 'SIGKILL');
    assert.equal(killedAt, KILL_AFTER);

    // Everything the outboxes still hold goes to the surviving collector.
    for (const c of clients) {
      for (let attempt = 0; c.outbox.count() > 0 && attempt < 20; attempt++) await c.flush();
      const last = await c.stop();
      assert.equal(last.remaining, 0, `${c.clientName}: ${JSON.stringify(last)}`);
    }

    const ids = new Set(made);
    assert.equal(ids.size, made.length);
    const failedOver = made.length - CLIENTS * MEASUREMENTS;
    assert.ok(failedOver > 0, 'measurements against the dead collector failed, were recorded, and were retried on the other');
    const [counts] = await adminQuery<{ n: number; distinct: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM ${schema}.results`,
    );
    assert.deepEqual(counts, { n: made.length, distinct: made.length }, 'stored exactly once');
    const stored = new Set((await adminQuery<{ id: string }>(`SELECT id FROM ${schema}.results`)).map((r) => r.id));
    for (const id of made) assert.ok(stored.has(id), `measurement ${id} is stored`);
    const [ids2] = await adminQuery<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.result_ids`);
    assert.equal(ids2!.n, made.length);

    // The survivor logged every REPORT it took; the victim had stored some before it died.
    const reported = (c: (typeof collectors)[number]) => c.lines.filter((l) => l.msg === 'report').length;
    assert.ok(reported(victim) > 0 && reported(collectors[1]!) > 0, `reports: a ${reported(victim)}, b ${reported(collectors[1]!)}`);
    collectors[1]!.child.kill('SIGTERM');
    assert.deepEqual(await collectors[1]!.exited, { code: 0, signal: null });
  },
);
