import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnChild, stopChild } from '../helpers/children.js';
import { followChild } from '../helpers/process.js';
import { HANGING_CHILD, waitForPids } from './fixtures/hanging.js';
import { isAlive } from './procs.js';

// Node emits a child's 'exit' before its stdout is necessarily read to the end ("stdio streams might
// still be open"); a test asserting on a log line after `await exited` then fails only when the
// machine is busy. Here the last line is written by a grandchild that shares the child's stdout and
// writes 300 ms after the child exited, which makes the late line certain instead of load-dependent.
const SCRIPT = `
const { spawn } = require('node:child_process');
process.stdout.write(JSON.stringify({ msg: 'first' }) + '\\n');
spawn(process.execPath, ['-e', "setTimeout(() => process.stdout.write(JSON.stringify({ msg: 'last' }) + '\\\\n'), 300)"], { stdio: ['ignore', 'inherit', 'ignore'] }).unref();
process.exit(3);
`;

const start = () => followChild(spawnChild(process.execPath, ['-e', SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] }));

test('exited resolves only after every stdout line was read', async () => {
  const proc = start();
  assert.deepEqual(await proc.exited, { code: 3, signal: null });
  assert.deepEqual(
    proc.lines.map((l) => l.msg),
    ['first', 'last'],
  );
});

test('waitFor finds a line that arrives after the exit event', async () => {
  const proc = start();
  assert.equal((await proc.waitFor((l) => l.msg === 'last', 30_000)).msg, 'last');
  await proc.exited;
});

test('waitFor rejects once the child has exited and its output ended without the line', async () => {
  const proc = start();
  await assert.rejects(
    proc.waitFor((l) => l.msg === 'never', 30_000),
    /process exited \(3\)/,
  );
  assert.equal(proc.lines.at(-1)?.msg, 'last');
});

test('stopChild resolves only once no process of the group is alive, a grandchild that ignores SIGTERM included', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-stop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Five rounds: before the fix the grandchild was often still alive when stopChild resolved (2 runs of 3 here).
  for (let round = 0; round < 5; round++) {
    const pids = join(dir, `pids-${round}.json`);
    const child = spawnChild(process.execPath, ['-e', HANGING_CHILD, pids], { stdio: 'ignore' });
    const [childPid, grandchildPid] = await waitForPids(pids);
    await stopChild(child, 'SIGTERM', 100);
    assert.ok(!isAlive(childPid!), `child ${childPid} is gone`);
    assert.ok(!isAlive(grandchildPid!), `grandchild ${grandchildPid} is gone`);
  }
});
