/**
 * The dashboard token stays in the primary (issue 17's smaller items): worker processes serve no
 * dashboard, so neither their environment (/proc/PID/environ, readable by the same user) nor their
 * command line carries it, whether the operator gave it by flag or by NETPROBE_HTTP_TOKEN.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { makeCertDir } from './helpers.js';
import { startHostileServer, stopServer } from './hostile-helpers.js';

function childPids(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

for (const via of ['flag', 'environment'] as const) {
  test(`workers never see the dashboard token (given by ${via})`, { timeout: 120_000 }, async (t) => {
    const certs = await makeCertDir(['alice']);
    t.after(() => certs.cleanup());
    const token = `tok-${via}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
    const flags = ['--workers', '2', '--http', '127.0.0.1:0', ...(via === 'flag' ? ['--http-token', token] : [])];
    const server = await startHostileServer(certs, flags, via === 'environment' ? { NETPROBE_HTTP_TOKEN: token } : {});
    t.after(() => stopServer(server));
    const workers = childPids(server.pid).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node'));
    // --workers 2: the primary and one forked worker.
    assert.ok(workers.length >= 1, `expected a forked worker process, found ${workers.length}`);
    for (const pid of workers) {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      assert.ok(!environ.includes(token), `worker ${pid}'s environment holds the dashboard token`);
      assert.ok(!cmdline.includes(token), `worker ${pid}'s command line holds the dashboard token`);
    }
  });
}
