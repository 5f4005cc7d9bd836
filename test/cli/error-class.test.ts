/**
 * Setup mistakes are not network data (issue 15), through the built CLI: a client run with the wrong
 * --ca leaves a `setup` failure that `analyse --json` keeps out of its failure figures and lists as a
 * finding; an unknown --file is refused before measuring, with the server's list of files.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AnalysisSummary } from '../../src/analysis/types.js';
import { openStore } from '../../src/store/open.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { netprobe, tempDir } from './helpers.js';

test('a client with the wrong --ca: a setup failure, left out of failure rates and listed as a finding; an unknown --file is refused with the list', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await tempDir(t);
  const store = join(dir, 'server.db');
  const server = runCli([
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
    store,
    '--builtin-files',
    '64KiB,1MiB',
    '--workers',
    '1',
    '--stats-interval',
    '0',
  ]);
  t.after(() => void server.child.kill('SIGKILL'));
  const port = Number((await server.waitFor((l) => l.msg === 'listening')).port);
  const client = (ca: string, ...extra: string[]) =>
    netprobe([
      'client',
      '--server',
      `127.0.0.1:${port}`,
      '--ca',
      ca,
      '--cert',
      pki.clients.alice!.cert,
      '--key',
      pki.clients.alice!.key,
      '--outbox',
      join(dir, 'outbox.db'),
      '--file',
      '64KiB',
      '--once',
      '--json',
      '--log-level',
      'silent',
      ...extra,
    ]);

  // The wrong CA: the measurement fails and waits in the outbox (the report cannot get through either).
  const wrong = await client(pki.stranger.ca);
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.equal((JSON.parse(wrong.stdout) as { error: { code: string } }).error.code, 'NETPROBE_TLS_UNAUTHORIZED');
  // Fixed: this run succeeds and delivers both.
  const right = await client(pki.ca);
  assert.equal(right.code, 0, right.stderr);

  const stored = await openStore(store, { readonly: true });
  t.after(() => stored.close());
  assert.equal(await stored.countResults(), 2);

  const analysed = await netprobe(['analyse', '--store', store, '--json']);
  assert.equal(analysed.code, 0, analysed.stderr);
  const s = JSON.parse(analysed.stdout) as AnalysisSummary;
  assert.deepEqual([s.totals.downloads, s.totals.failed, s.totals.failureRate], [1, 0, 0]);
  assert.deepEqual(
    s.clients.map((c) => [c.client, c.downloads.failed]),
    [['alice', 0]],
  );
  assert.deepEqual(
    s.excludedFailures.map((f) => [f.client, f.errorClass, f.code, f.count]),
    [['alice', 'setup', 'NETPROBE_TLS_UNAUTHORIZED', 1]],
  );
  const finding = s.findings.find((f) => f.kind === 'setup-failures');
  assert.equal(finding?.client, 'alice');
  assert.match(finding?.message ?? '', /^1 run failed because TLS authentication failed: the server's certificate is not trusted by --ca/);

  const all = JSON.parse((await netprobe(['analyse', '--store', store, '--json', '--failures', 'all'])).stdout) as AnalysisSummary;
  assert.deepEqual([all.totals.downloads, all.totals.failed, all.excludedFailures.length], [2, 1, 0]);

  // An unknown --file: refused before measuring (exit 2), the server's files in the message, nothing stored.
  const unknown = await client(pki.ca, '--file', '5MiB');
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^netprobe: server 127\.0\.0\.1:\d+ has no file '5MiB' \(--file\); it serves: 1MiB, 64KiB$/m);
  assert.equal(await stored.countResults(), 2);
});
