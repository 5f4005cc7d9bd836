/**
 * Operator-proof options (issue 15), through the built CLI: one name per setting (flag, config key,
 * NETPROBE_* variable), explicit units, defaults shown with units, docs/cli.md generated and fresh,
 * and `store prune` guarded.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { clientTable } from '../../src/cli/options/client.js';
import { TABLES, renderCliDocs } from '../../src/cli/options/docs.js';
import { flagOf } from '../../src/cli/options/table.js';
import { serverCommandSchema } from '../../src/cli/serve.js';
import { buildProgram } from '../../src/cli/program.js';
import { resolveOptions } from '../../src/cli/options/resolve.js';
import { serverTable } from '../../src/cli/options/server.js';
import { clientConfigSchema } from '../../src/client/config.js';
import { openStore } from '../../src/store/open.js';
import { HOUR, schedule, stored } from '../analysis/helpers/dataset.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { netprobe, snapshot, tempDir } from './helpers.js';

const DAY = 24 * HOUR;

/** A SQLite store with 12 results, one every 10 days up to 9.5 days ago. */
async function storeWithRows(t: TestContext): Promise<{ dir: string; path: string; rows: number; old: number }> {
  const dir = await tempDir(t);
  const path = join(dir, 'copy.db');
  const now = Date.now();
  const rows = schedule('a', now - 120 * DAY + DAY / 2, 10 * DAY, 12).map(stored);
  const store = await openStore(path);
  await store.insertResults([rows]);
  await store.close();
  return { dir, path, rows: rows.length, old: rows.filter((r) => Date.parse(r.startedAt) < now - 90 * DAY).length };
}

async function count(path: string): Promise<number> {
  const store = await openStore(path, { readonly: true });
  try {
    return await store.countResults();
  } finally {
    await store.close();
  }
}

test('prune --older-than 90 (no unit) exits 2 with the fix and the store keeps every row', async (t) => {
  const s = await storeWithRows(t);
  const run = await netprobe(['store', 'prune', '--older-than', '90', '--store', s.path, '--yes']);
  assert.deepEqual([run.code, run.stderr], [2, "netprobe: --older-than: '90' needs a unit: 90d, 90h, 90m, 90s or 90ms\n"]);
  assert.equal(await count(s.path), s.rows);
});

test('prune --dry-run prints count, oldest and newest and deletes nothing; without a terminal it needs --yes', async (t) => {
  const s = await storeWithRows(t);
  const before = await snapshot(s.dir);
  const dry = await netprobe(['store', 'prune', '--older-than', '90d', '--store', s.path, '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(`^dry run: would delete ${s.old} results started before \\S+Z in .*copy\\.db \\(oldest \\S+Z, newest \\S+Z\\)`),
  );
  assert.deepEqual(await snapshot(s.dir), before);

  const unconfirmed = await netprobe(['store', 'prune', '--older-than', '90d', '--store', s.path]);
  assert.deepEqual(
    [unconfirmed.code, unconfirmed.stderr],
    [2, 'netprobe: store prune deletes results: add --yes to confirm (or --dry-run to see what would go)\n'],
  );
  assert.equal(await count(s.path), s.rows);

  const confirmed = await netprobe(['store', 'prune', '--older-than', '90d', '--store', s.path, '--yes']);
  assert.equal(confirmed.code, 0, confirmed.stderr);
  assert.match(confirmed.stdout, new RegExp(`^pruned ${s.old} results`));
  assert.equal(await count(s.path), s.rows - s.old);
});

test('one name per setting: NETPROBE_INTERVAL=5s and interval: 5s take effect; the old names still work with a warning', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await tempDir(t);
  const base = [
    'client',
    '--server',
    '127.0.0.1:1',
    '--ca',
    pki.ca,
    '--cert',
    pki.clients.alice!.cert,
    '--key',
    pki.clients.alice!.key,
    '--outbox',
    join(dir, 'outbox.db'),
    '--count',
    '1',
  ];
  const started = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const client = runCli(args, env);
    t.after(() => void client.child.kill('SIGKILL'));
    const line = await client.waitFor((l) => l.msg === 'client started');
    client.child.kill('SIGKILL');
    return { schedule: line.schedule as { intervalMs: number }, stderr: client.stderr };
  };
  assert.equal((await started(base, { NETPROBE_INTERVAL: '5s' })).schedule.intervalMs, 5_000);
  const config = join(dir, 'client.yaml');
  await writeFile(config, 'interval: 7m\n');
  assert.equal((await started([...base, '--config', config])).schedule.intervalMs, 420_000);
  // The flag wins over the environment, which wins over the file.
  assert.equal((await started([...base, '--config', config, '--interval', '2s'], { NETPROBE_INTERVAL: '5s' })).schedule.intervalMs, 2_000);

  const old = await started(base, { NETPROBE_INTERVAL_MS: '3000' });
  assert.equal(old.schedule.intervalMs, 3_000);
  assert.deepEqual(old.stderr, [
    'netprobe: NETPROBE_INTERVAL_MS is deprecated and will be ignored in the next version; set NETPROBE_INTERVAL=3000ms',
  ]);
  await writeFile(config, 'intervalMs: 4000\n');
  const oldKey = await started([...base, '--config', config]);
  assert.equal(oldKey.schedule.intervalMs, 4_000);
  assert.deepEqual(oldKey.stderr, [
    "netprobe: client.yaml: 'intervalMs' is deprecated and will be refused in the next version; write 'interval: 4000ms'",
  ]);

  await writeFile(config, 'interval: 60\n');
  const bare = await netprobe([...base, '--config', config]);
  assert.deepEqual([bare.code, bare.stderr], [2, "netprobe: client.yaml: interval: '60' needs a unit: 60d, 60h, 60m, 60s or 60ms\n"]);
  const zero = await netprobe([...base, '--interval', '0']);
  assert.deepEqual([zero.code, zero.stderr], [2, "netprobe: --interval: '0' is too short: at least 1ms\n"]);
  assert.doesNotMatch(zero.stderr, /intervalMs/);
});

test('help shows every default with its unit (simulate, demo, client, server)', async () => {
  const help = async (command: string) => (await netprobe([command, '--help'])).stdout.replace(/\s+/g, ' ');
  const simulate = { stdout: await help('simulate') };
  assert.match(simulate.stdout, /--duration <duration> real run time of the real engine.*\(default 3m\)/);
  assert.match(simulate.stdout, /--day <duration> real time of one simulated day.*\(default 60s\)/);
  assert.match(simulate.stdout, /--every <duration> .*\(default 30m\)/);
  const demo = { stdout: await help('demo') };
  assert.match(demo.stdout, /--span <duration> .*\(default 7d\)/);
  assert.match(demo.stdout, /--real-duration <duration> .*\(default 15s\)/);
  const client = { stdout: await help('client') };
  assert.match(client.stdout, /--interval <duration> measure every this long \(default 60s\)/);
  const server = { stdout: await help('server') };
  assert.match(server.stdout, /--max-frame-size <size> largest control frame accepted \(default 4MiB\)/);
  for (const text of [simulate.stdout, demo.stdout, client.stdout, server.stdout])
    assert.doesNotMatch(text, /default (180000|60000|20000)\b/);
});

test('docs/cli.md is generated from the option tables and up to date (npm run docs:cli)', async () => {
  const file = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  assert.equal(file, renderCliDocs(), 'docs/cli.md is stale: run npm run docs:cli');
  assert.match(file, /\| `--interval <duration>` \| `interval` \| `NETPROBE_INTERVAL` \| `60s` \|/);
});

test('every command takes its options from an option table, and docs/cli.md lists every command', async () => {
  const program = await buildProgram();
  const tables = new Map(TABLES.map((t) => [t.command, t]));
  const leaves: string[] = [];
  const walk = (command: typeof program, path: string[]) => {
    if (command.commands.length === 0) {
      const name = path.join(' ');
      leaves.push(name);
      const table = tables.get(name);
      assert.ok(table, `netprobe ${name} has no option table in src/cli/options`);
      const declared = command.options.map((o) => o.long).filter((f) => f !== '--help');
      assert.deepEqual(declared.sort(), table.options.map(flagOf).sort(), `netprobe ${name}: flags declared outside its table`);
    }
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  for (const command of program.commands) walk(command, [command.name()]);
  assert.deepEqual(leaves.sort(), [...tables.keys()].sort());
});

test("the tables' defaults are the libraries' defaults (no second copy to drift)", () => {
  const needed = { server: '127.0.0.1:1', cert: 'c', key: 'k' };
  assert.deepEqual(
    clientConfigSchema.parse(resolveOptions(clientTable, { flags: needed, env: {} })),
    clientConfigSchema.parse({ ...needed, server: [needed.server] }),
  );
  // The command serves on every core; the library's default is one process.
  assert.deepEqual(
    serverCommandSchema.parse(resolveOptions(serverTable, { flags: {}, env: {} })),
    serverCommandSchema.parse({ workers: 'auto' }),
  );
});
