/**
 * The harness itself: a child that ignores SIGTERM (with a grandchild that does too) is gone after
 * its test times out, after its test forgot it, after it escaped into its own session, and after its
 * file ran over the per-file budget. Each case runs a fixture (test/harness/fixtures) in a nested
 * test process, then checks /proc for the pids the hanging child wrote. And the runner runs a file
 * in the one process it spawns (test-process.ts), whose spec output and exit status it reports, and
 * runs three files at once by default.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnChild, stopChild } from '../helpers/children.js';
import { waitForPids } from './fixtures/hanging.js';
import { isAlive } from './procs.js';
import { testProcessArgs } from './test-process.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const fixture = (name: string) => join(HERE, 'fixtures', `${name}.ts`);

interface Nested {
  code: number | null;
  output: string;
  pids: number[];
}

/** Runs `node ARGS` with a fresh pids file and returns its exit code, its output and the hanging child's pids. */
async function nested(t: { after(fn: () => Promise<void>): void }, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Nested> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-harness-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pidsPath = join(dir, 'pids.json');
  // NODE_TEST_CONTEXT would make the nested test process report to this process's runner instead.
  // NETPROBE_TEST_FILE and its budget are this file's, not the fixture's.
  const { NODE_TEST_CONTEXT: _c, NETPROBE_TEST_FILE: _f, NETPROBE_TEST_FILE_TIMEOUT_MS: _b, ...env } = process.env;
  const child = spawnChild(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, ...extraEnv, FIXTURE_PIDS_FILE: pidsPath, FORCE_COLOR: '0' },
  });
  t.after(() => stopChild(child, 'SIGKILL'));
  const output: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => output.push(b));
  child.stderr!.on('data', (b: Buffer) => output.push(b));
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  return { code, output: Buffer.concat(output).toString(), pids: await waitForPids(pidsPath) };
}

/**
 * Whether `pid` is dead within a few seconds: SIGKILL is sent as the nested process exits, and on a
 * loaded machine the killed process may take a moment to be scheduled and die.
 */
async function gone(pid: number): Promise<boolean> {
  const deadline = performance.now() + 5_000;
  while (isAlive(pid)) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** The fixture run as the runner runs a test file (test-process.ts). */
const inTestProcess = (name: string) => testProcessArgs(fixture(name));
const viaRunner = (...args: string[]) => [
  '--import',
  'tsx',
  fileURLToPath(new URL('run.ts', import.meta.url)),
  '--concurrency',
  '1',
  ...args,
];

test(
  'a test that times out: its t.after stops the hanging child and its grandchild (SIGTERM ignored, then SIGKILL to the group)',
  { timeout: 60_000 },
  async (t) => {
    const run = await nested(t, inTestProcess('times-out'));
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /test timed out after 1500ms/);
    assert.match(run.output, /✖ hangs until its timeout .*\n[^]*ℹ cancelled 1/, 'the spec reporter names the timed-out test and counts it');
    assert.doesNotMatch(run.output, /teardown killed/, "the test's own teardown did it, not the net under it");
    assert.equal(run.pids.length, 2);
    for (const pid of run.pids) assert.ok(await gone(pid), `process ${pid} is gone`);
  },
);

test(
  'a test that forgets its child and a timer: the process still exits, and the child group is killed and named',
  { timeout: 60_000 },
  async (t) => {
    const run = await nested(t, inTestProcess('forgets-child'));
    // Exits although its interval is still active: --test-force-exit, once the tests are done.
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /✔ forgets its child/);
    assert.match(run.output, new RegExp(`teardown killed process group ${run.pids[0]} .*alive when the test process exited`));
    for (const pid of run.pids) assert.ok(await gone(pid), `process ${pid} is gone`);
  },
);

test('the runner lists a process that escaped into its own session, kills it and fails the file', { timeout: 60_000 }, async (t) => {
  const run = await nested(t, viaRunner(fixture('escapes')));
  assert.equal(run.code, 1, run.output);
  for (const pid of run.pids) {
    assert.match(run.output, new RegExp(`escapes\\.ts: left process ${pid} behind`));
    assert.ok(await gone(pid), `process ${pid} is gone`);
  }
  assert.match(run.output, /✖ test\/harness\/fixtures\/escapes\.ts: left processes behind; 2 leftover/);
});

test('a file over its budget: the running test is named, the file fails, what it left is killed', { timeout: 60_000 }, async (t) => {
  const run = await nested(t, viaRunner('--file-timeout-ms', '2000', fixture('over-budget')));
  assert.equal(run.code, 1, run.output);
  assert.match(run.output, /the per-file budget of 2 s ran out \(still running: "never finishes"\)/);
  for (const pid of run.pids) {
    assert.match(run.output, new RegExp(`left process ${pid} behind`));
    assert.ok(await gone(pid), `process ${pid} is gone`);
  }
});

test('the runner runs a test file in the one process it spawned, and reports it with its CPU time', { timeout: 60_000 }, async (t) => {
  const run = await nested(t, viaRunner(fixture('one-process')));
  assert.equal(run.code, 0, run.output);
  assert.match(
    run.output,
    /✔ test\/harness\/fixtures\/one-process\.ts \(\d+\.\d s, CPU \d+\.\d s\)\n[^]*✔ runs in the process the runner started/,
  );
  assert.match(run.output, /✔ all 1 files passed, nothing left running/);
});

test('by default the runner runs three files at once', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-rendezvous-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runner = fileURLToPath(new URL('run.ts', import.meta.url));
  const copies = [fixture('rendezvous'), fixture('rendezvous'), fixture('rendezvous')];
  const run = await nested(t, ['--import', 'tsx', runner, ...copies], { FIXTURE_RENDEZVOUS_DIR: dir });
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /3 files, 3 at a time/);
  assert.match(run.output, /✔ all 3 files passed, nothing left running/);
});
