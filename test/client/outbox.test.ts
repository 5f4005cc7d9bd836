import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { TlsSessions } from '../../src/client/connect.js';
import { Outbox, OutboxFullError } from '../../src/client/outbox.js';
import { uuidv7 } from '../../src/client/uuid.js';
import { sampleResult } from '../helpers/wire.js';
import { captureLogs, clientFixture, type ClientFixture } from './helpers/setup.js';

const result = (i: number) => sampleResult({ id: uuidv7(1_700_000_000_000 + i), bytes: i });

describe('outbox', () => {
  let fx: ClientFixture;
  before(async () => {
    fx = await clientFixture();
  });
  after(() => fx.cleanup());

  test('results survive closing and reopening, oldest first', async (t) => {
    const path = join(await fx.tempDir(), 'sub', 'outbox.db');
    const first = Outbox.open(path);
    for (let i = 0; i < 5; i++) first.add(result(i));
    first.close();
    const again = Outbox.open(path);
    t.after(() => again.close());
    assert.equal(again.count(), 5);
    assert.deepEqual(
      again.peek(3).map((r) => r.bytes),
      [0, 1, 2],
    );
  });

  test('delete removes only the given ids', async (t) => {
    const box = Outbox.open(join(await fx.tempDir(), 'o.db'));
    t.after(() => box.close());
    const rs = [result(1), result(2), result(3)];
    rs.forEach((r) => box.add(r));
    assert.equal(box.delete([rs[1]!.id, uuidv7()]), 1);
    assert.deepEqual(
      box.peek(10).map((r) => r.id),
      [rs[0]!.id, rs[2]!.id],
    );
  });

  test('addMany stores a batch in order; a batch that does not fit or holds an invalid result stores nothing', async (t) => {
    const box = Outbox.open(join(await fx.tempDir(), 'many.db'), { capacity: 5 });
    t.after(() => box.close());
    box.addMany([result(1), result(2), result(3)]);
    assert.deepEqual(
      box.peek(10).map((r) => r.bytes),
      [1, 2, 3],
    );
    assert.throws(
      () => box.addMany([result(4), result(5), result(6)]),
      (err: unknown) => err instanceof OutboxFullError,
    );
    assert.throws(() => box.addMany([result(7), { ...result(8), bytes: -1 }]), /invalid result/);
    assert.equal(box.count(), 3);
  });

  test('a full outbox refuses new results loudly and keeps the old ones', async (t) => {
    const logs = captureLogs();
    const box = Outbox.open(join(await fx.tempDir(), 'o.db'), { capacity: 2, logger: logs.logger });
    t.after(() => box.close());
    box.add(result(1));
    box.add(result(2));
    assert.throws(
      () => box.add(result(3)),
      (err: unknown) => err instanceof OutboxFullError && err.code === 'NETPROBE_LIMIT',
    );
    assert.deepEqual(
      box.peek(10).map((r) => r.bytes),
      [1, 2],
    );
    const line = logs.lines.find((l) => l.level === 50);
    assert.ok(line, 'an error-level log line');
    assert.match(String(line.msg), /full .*NOT stored/);
  });

  test('an invalid result is a loud bug, never stored', async (t) => {
    const box = Outbox.open(join(await fx.tempDir(), 'o.db'));
    t.after(() => box.close());
    assert.throws(() => box.add({ ...result(1), bytes: -1 }), { code: 'NETPROBE_INTERNAL' });
    assert.equal(box.count(), 0);
  });

  test('a corrupt file is moved aside with an error log and a fresh outbox is created', async (t) => {
    const dir = await fx.tempDir();
    const path = join(dir, 'outbox.db');
    await writeFile(path, randomBytes(8192));
    const logs = captureLogs();
    const box = Outbox.open(path, { logger: logs.logger, now: () => Date.parse('2025-01-02T03:04:05.678Z') });
    t.after(() => box.close());
    assert.equal(box.count(), 0);
    box.add(result(1));
    assert.equal(box.count(), 1);
    const files = await readdir(dir);
    assert.ok(files.includes('outbox.db.corrupt-2025-01-02T03-04-05-678Z'), files.join(','));
    const line = logs.lines.find((l) => l.level === 50);
    assert.match(String(line?.msg), /corrupt: moved it to .*corrupt-2025/);
    assert.equal(line?.code, 'SQLITE_NOTADB');
  });

  test("a new outbox is the owner's only, and the client state (count, tickets) survives reopening for its identity", async (t) => {
    const path = join(await fx.tempDir(), 'state.db');
    let now = 1_800_000_000_000;
    const first = Outbox.open(path, { now: () => now });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal(first.keepsTickets, true);
    assert.deepEqual(first.readClientState('me'), { measurements: 0, sessions: new Map() });
    first.writeClientState('me', { measurements: 3, sessions: new Map([['a:1|default', Buffer.from('ticket-a')]]) });
    now += 1000;
    first.writeClientState('other', { measurements: 4, sessions: new Map([['b:1|default', Buffer.from('ticket-b')]]) });
    first.add(result(1));
    first.close();
    const again = Outbox.open(path, { now: () => now });
    t.after(() => again.close());
    const mine = again.readClientState('me');
    assert.equal(mine.measurements, 4, 'one count per outbox');
    assert.deepEqual([...mine.sessions], [['a:1|default', Buffer.from('ticket-a')]], 'only the tickets of this identity');
    assert.equal(again.count(), 1, 'results untouched');
    // TLS 1.3 tickets live at most 7 days: older ones are dropped, not offered.
    now += 7 * 24 * 3600 * 1000;
    assert.deepEqual([...again.readClientState('other').sessions], [['b:1|default', Buffer.from('ticket-b')]]);
    now += 1;
    assert.equal(again.readClientState('me').sessions.size, 0);
  });

  test('only tickets that arrived are written again: a ticket not renewed keeps its age (TlsSessions.takeNew)', async (t) => {
    const path = join(await fx.tempDir(), 'age.db');
    let now = 1_800_000_000_000;
    const box = Outbox.open(path, { now: () => now });
    t.after(() => box.close());
    const sessions = new TlsSessions();
    sessions.set('a:1|default', Buffer.from('ticket-a'));
    box.writeClientState('me', { measurements: 1, sessions: sessions.takeNew() });
    // Later runs talk to another server only: a's ticket is not among the new ones.
    for (let run = 2; run <= 8; run++) {
      now += 24 * 3600 * 1000;
      sessions.set('b:1|default', Buffer.from(`ticket-b-${run}`));
      const fresh = sessions.takeNew();
      assert.deepEqual([...fresh.keys()], ['b:1|default']);
      box.writeClientState('me', { measurements: run, sessions: fresh });
    }
    assert.equal(sessions.takeNew().size, 0, 'taken once');
    // Seven days after it arrived, a's ticket is dropped; b's (written a day ago) is offered.
    now += 1;
    assert.deepEqual([...box.readClientState('me').sessions.keys()], ['b:1|default']);
  });

  test('an outbox readable by others keeps no ticket (memory only; stored ones deleted), says so once, and still keeps the count', async (t) => {
    const path = join(await fx.tempDir(), 'open.db');
    const box = Outbox.open(path);
    box.writeClientState('me', { measurements: 1, sessions: new Map([['a:1|default', Buffer.from('ticket')]]) });
    box.close();
    await chmod(path, 0o644);
    const logs = captureLogs();
    const open = Outbox.open(path, { logger: logs.logger });
    t.after(() => open.close());
    assert.equal(open.keepsTickets, false);
    assert.equal(open.readClientState('me').sessions.size, 0, 'a ticket in a readable file is not offered');
    open.writeClientState('me', { measurements: 2, sessions: new Map([['b:1|default', Buffer.from('new')]]) });
    assert.equal(open.readClientState('me').measurements, 2);
    const raw = new Database(path, { readonly: true });
    t.after(() => raw.close());
    assert.deepEqual(raw.prepare('SELECT server FROM tls_sessions').all(), [], 'the stored ticket was deleted, the new one not written');
    const lines = logs.lines.filter((l) => /readable by others \(mode 0644\).*1 stored ones deleted.*chmod 600/.test(String(l.msg)));
    assert.equal(lines.length, 1);
  });

  test('a stored row that no longer validates is moved to outbox_rejected, not sent and not lost', async (t) => {
    const path = join(await fx.tempDir(), 'o.db');
    const logs = captureLogs();
    const box = Outbox.open(path, { logger: logs.logger });
    t.after(() => box.close());
    box.add(result(1));
    box.add(result(2));
    const raw = new Database(path);
    raw.prepare('UPDATE outbox SET body = \'{"broken":true}\' WHERE seq = 1').run();
    raw.close();
    assert.deepEqual(
      box.peek(10).map((r) => r.bytes),
      [2],
    );
    assert.equal(box.count(), 1);
    const check = new Database(path, { readonly: true });
    t.after(() => check.close());
    assert.equal((check.prepare('SELECT count(*) AS n FROM outbox_rejected').get() as { n: number }).n, 1);
    assert.ok(logs.lines.some((l) => l.level === 50));
  });
});
