/**
 * What a person at a terminal sees from `netprobe client` (through a pseudo-terminal, util-linux
 * `script`): the scheduled client prints a header and one line per measurement and no JSON log
 * lines; --once prints its table and nothing else; --json prints JSON result lines; piped, the
 * scheduled client keeps writing JSON log lines.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import { makePki } from '../helpers/pki.js';
import { CLI, runCli } from '../helpers/process.js';
import { runInPty } from '../helpers/pty.js';

async function setup(t: TestContext) {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-tty-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    ca: pki.ca,
    cert: pki.serverCert,
    key: pki.serverKey,
    store: join(dir, 'r.db'),
    builtinFiles: ['64KiB'],
    statsIntervalMs: 0,
  });
  t.after(() => server.close(1000));
  const client = (...extra: string[]) => [
    'client',
    '-s',
    `127.0.0.1:${server.port}`,
    '--ca',
    pki.ca,
    '--cert',
    pki.clients.alice!.cert,
    '--key',
    pki.clients.alice!.key,
    '--file',
    '64KiB',
    '--outbox',
    join(dir, `outbox-${extra.join('')}.db`),
    ...extra,
  ];
  return { client };
}

const LINE =
  /^\d\d:\d\d:\d\d\s+download\s+64KiB\s+[\d.]+ Mbit\/s\s+[\d.]+ ms\s+[\d.]+ ms\s+([\d.]+ ms|-)\s+(\d+ RPM|-)\s+ok( {2}queued: \d+)?$/gm;

test('scheduled client on a terminal: a header, one line per measurement, no JSON log lines', async (t) => {
  const { client } = await setup(t);
  const pty = runInPty([process.execPath, CLI, ...client('--interval', '1s', '--jitter', '0', '--count', '2')]);
  t.after(() => pty.child.kill('SIGKILL'));
  assert.equal(await pty.exited, 0, pty.output());
  const text = pty.output();
  assert.match(text, /^time \(local\)\s+direction\s+file\s+throughput\s+response\s+idle RTT\s+loaded RTT\s+RPM\s+status$/m);
  assert.equal(text.match(LINE)?.length, 2, text);
  assert.doesNotMatch(text, /"level":/, 'no JSON log lines on a terminal');
});

test('--once on a terminal prints a table per direction and nothing else', async (t) => {
  const { client } = await setup(t);
  const pty = runInPty([process.execPath, CLI, ...client('--once', '--direction', 'both')]);
  t.after(() => pty.child.kill('SIGKILL'));
  assert.equal(await pty.exited, 0, pty.output());
  const text = pty.output().trim();
  assert.equal(text.match(/^result\s+ok$/gm)?.length, 2, text);
  assert.equal(text.match(/^throughput\s+[\d.]+ Mbit\/s$/gm)?.length, 2, text);
  assert.deepEqual(
    [...text.matchAll(/^direction\s+(\w+)/gm)].map((m) => m[1]),
    ['download', 'upload'],
  );
  assert.match(text, /^latency \(download\)\s+[\d.]+ ms$/m);
  assert.match(text, /^latency \(upload\)\s+[\d.]+ ms$/m);
  assert.equal(text.match(/^responsiveness\s+(\d+ RPM \(foreign .*\)|- \(\d+ probes?\))$/gm)?.length, 2, text);
  assert.ok(
    text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .every((l) => /^[a-zA-Z][a-zA-Z0-9 ()-]*\s{2,}\S/.test(l)),
    `only table rows:\n${text}`,
  );
});

test('--json on a terminal prints JSON results; piped, the scheduled client writes JSON log lines', async (t) => {
  const { client } = await setup(t);
  const pty = runInPty([process.execPath, CLI, ...client('--json', '--interval', '1s', '--jitter', '0', '--count', '1')]);
  t.after(() => pty.child.kill('SIGKILL'));
  assert.equal(await pty.exited, 0, pty.output());
  const results = pty
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{"id"'));
  assert.equal(results.length, 1, pty.output());
  assert.equal((JSON.parse(results[0]!) as { file: string }).file, '64KiB');

  const piped = runCli(client('--interval', '1s', '--jitter', '0', '--count', '1'));
  t.after(() => void piped.child.kill('SIGKILL'));
  await piped.waitFor((l) => l.msg === 'measurement');
  assert.equal((await piped.exited).code, 0);
  assert.ok(
    piped.lines.every((l) => typeof l.level === 'number'),
    'only JSON log lines on a pipe',
  );
});
