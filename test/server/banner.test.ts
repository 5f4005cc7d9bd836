/**
 * `netprobe server` on a terminal says in plain words where it listens, with how many processes,
 * where results are stored and where the dashboard is; piped (a service, a log collector) it writes
 * only its JSON log lines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { makePki } from '../helpers/pki.js';
import { CLI, runCli } from '../helpers/process.js';
import { runInPty } from '../helpers/pty.js';

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-banner-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const store = join(dir, 'results.db');
  const args = [
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    '1',
    '--builtin-files',
    '1MiB',
    '--store',
    store,
    '--http',
    '0',
    '--stats-interval',
    '0',
    '--ca',
    pki.ca,
    '--cert',
    pki.serverCert,
    '--key',
    pki.serverKey,
  ];
  return { dir, store, args };
}

test('on a terminal the server prints where it listens, its processes, store, files and dashboard', async (t) => {
  const { dir, store, args } = await setup(t);
  const pty = runInPty([process.execPath, CLI, ...args], { cwd: dir });
  t.after(() => pty.child.kill('SIGKILL'));
  const m = await pty.waitFor(/netprobe server listening on 127\.0\.0\.1:(\d+) \(mutual TLS\), 1 process\n/);
  await pty.waitFor(/dashboard https?:\/\/127\.0\.0\.1:\d+\//);
  const text = pty.output();
  assert.ok(text.includes(`results stored in ${store}`), text);
  assert.ok(text.includes('test files: 1MiB'), text);
  // The JSON listening line names the same port, and its pid lets us stop the server.
  // The JSON log line may reach the terminal after the banner.
  const listening = await pty.waitFor(/^\{.*"msg":"listening".*\}$/m);
  const line = JSON.parse(listening[0]) as { pid: number; port: number };
  assert.equal(line.port, Number(m[1]));
  process.kill(line.pid, 'SIGTERM');
  assert.equal(await pty.exited, 0);
});

test('piped, the server writes no banner: only JSON log lines', async (t) => {
  const { args } = await setup(t);
  const server = runCli(args);
  t.after(() => server.child.kill('SIGKILL'));
  await server.waitFor((l) => l.msg === 'listening');
  server.child.kill('SIGTERM');
  await server.exited;
  assert.ok(!server.stderr.some((l) => l.includes('listening on')), server.stderr.join('\n'));
  assert.ok(
    server.lines.every((l) => typeof l.level === 'number'),
    'every stdout line is a JSON log line',
  );
});
