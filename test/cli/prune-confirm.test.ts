/**
 * `netprobe store prune` asks before deleting: on a terminal (a pseudo-terminal, util-linux `script`)
 * it shows what would go and waits for an answer; "n" keeps every row, "y" deletes. Without a
 * terminal and without --yes it refuses and deletes nothing.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { openStore } from '../../src/store/open.js';
import { HOUR, schedule, stored } from '../analysis/helpers/dataset.js';
import { CLI } from '../helpers/process.js';
import { runInPty } from '../helpers/pty.js';
import { netprobe, tempDir } from './helpers.js';

const DAY = 24 * HOUR;

/** 12 results, one every 10 days up to 9.5 days ago: `old` of them started over 90 days ago. */
async function storeWithRows(t: TestContext): Promise<{ path: string; rows: number; old: number }> {
  const path = join(await tempDir(t, 'netprobe-prune-'), 'netprobe.db');
  const now = Date.now();
  const rows = schedule('a', now - 120 * DAY + DAY / 2, 10 * DAY, 12).map(stored);
  const store = await openStore(path);
  await store.insertResults([rows]);
  await store.close();
  return { path, rows: rows.length, old: rows.filter((r) => Date.parse(r.startedAt) < now - 90 * DAY).length };
}

async function count(path: string): Promise<number> {
  const store = await openStore(path, { readonly: true });
  try {
    return await store.countResults();
  } finally {
    await store.close();
  }
}

/** Runs prune on a terminal, answers the question with `answer`, returns the exit status and the terminal text. */
async function pruneAnswering(t: TestContext, path: string, answer: string): Promise<{ code: number | null; text: string }> {
  const pty = runInPty([process.execPath, CLI, 'store', 'prune', '--older-than', '90d', '--store', path]);
  t.after(() => pty.child.kill('SIGKILL'));
  await pty.waitFor(/\? \[y\/N\] /);
  pty.child.stdin!.write(`${answer}\n`);
  const code = await pty.exited;
  pty.child.stdin!.end();
  // readline positions the cursor with escape sequences: the text without them.
  return { code, text: pty.output().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), '') };
}

test('prune on a terminal asks first: "n" keeps every row, "y" deletes the old ones', async (t) => {
  const s = await storeWithRows(t);
  assert.ok(s.old > 0 && s.old < s.rows);

  const no = await pruneAnswering(t, s.path, 'n');
  assert.equal(no.code, 0, no.text);
  assert.match(
    no.text,
    new RegExp(
      `delete ${s.old} results started before \\S+Z in .*netprobe\\.db \\(oldest \\S+Z, newest \\S+Z\\) and the transfers of that time\\? \\[y/N\\] `,
    ),
  );
  assert.match(no.text, /^nothing deleted$/m);
  assert.equal(await count(s.path), s.rows);

  const yes = await pruneAnswering(t, s.path, 'y');
  assert.equal(yes.code, 0, yes.text);
  assert.match(yes.text, new RegExp(`^pruned ${s.old} results and \\d+ transfers started before`, 'm'));
  assert.equal(await count(s.path), s.rows - s.old);
});

test('prune without a terminal and without --yes refuses (exit 2) and deletes nothing', async (t) => {
  const s = await storeWithRows(t);
  const run = await netprobe(['store', 'prune', '--older-than', '90d', '--store', s.path]);
  assert.deepEqual(
    [run.code, run.stdout, run.stderr],
    [2, '', 'netprobe: store prune deletes results: add --yes to confirm (or --dry-run to see what would go)\n'],
  );
  assert.equal(await count(s.path), s.rows);
});
