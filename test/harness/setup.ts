/**
 * Loaded (`--import`) into every test process by test/harness/run.ts, before the test file.
 *
 * - Children spawned through test/helpers/children.ts belong to the top-level test running when they
 *   started: their process groups are SIGKILLed when the next top-level test starts and when the
 *   process exits (the runner passes --test-force-exit, so a leaked timer or socket cannot keep it
 *   alive), whatever the test's outcome. A group that was still alive is named on stderr.
 * - The per-file budget (NETPROBE_TEST_FILE_TIMEOUT_MS): when it runs out, the tests still running
 *   are named, every child group is killed and the process exits 1. The runner SIGKILLs what is left
 *   shortly after and lists any process that escaped.
 */
import { afterEach, beforeEach } from 'node:test';
import { closeScope, openScope, reapChildren } from '../helpers/children.js';

const file = process.env.NETPROBE_TEST_FILE ?? process.argv[1] ?? 'this file';
const running: string[] = [];

beforeEach((t) => {
  if (running.length === 0) {
    report(reapChildren(false), 'left by an earlier test');
    openScope();
  }
  running.push(t.name);
});

afterEach((t) => {
  const i = running.lastIndexOf(t.name);
  if (i >= 0) running.splice(i, 1);
  if (running.length === 0) closeScope();
});

process.on('exit', () => report(reapChildren(true), 'alive when the test process exited'));

const budgetMs = Number(process.env.NETPROBE_TEST_FILE_TIMEOUT_MS ?? 0);
if (budgetMs > 0) {
  setTimeout(() => {
    const still = running.length > 0 ? `still running: ${running.map((n) => JSON.stringify(n)).join(' > ')}` : 'between tests';
    process.stderr.write(`\n${file}: the per-file budget of ${budgetMs / 1000} s ran out (${still}); killing its child processes\n`);
    process.exit(1);
  }, budgetMs).unref();
}

function report(killed: string[], why: string): void {
  for (const line of killed) process.stderr.write(`${file}: teardown killed ${line}, ${why}\n`);
}
