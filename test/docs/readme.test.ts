/**
 * README.md's block `setup` (test/docs/readme-blocks.ts): `npm install && npm run demo`, `npm test`,
 * `npm run test:long`.
 * - `npm run demo` runs as written, with `--dir` in a temporary folder (the demo writes
 *   ./netprobe-demo otherwise); in `npm test` at a reduced size (50 clients over a day, 3 real clients
 *   for 3 s), in `npm run test:long` at its defaults.
 * - `npm install` is not run (on a clean clone it fetches from the registry and compiles
 *   better-sqlite3, about a minute): `npm ci --dry-run --offline` on a copy of package.json and
 *   package-lock.json checks that the committed lock file installs as it stands.
 * - `npm test` and `npm run test:long` are not run: they are the suites running this test. Their
 *   scripts must run the harness (test/harness/run.ts, whose own tests are test/harness/*.test.ts)
 *   after building, the long one with `--suite long`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../cli/helpers.js';
import { sized } from '../helpers/suite.js';
import { ROOT, readmeBlock } from './readme-blocks.js';

const run = promisify(execFile);
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const block = readmeBlock('setup');

test('the README setup block is the commands this test knows, and names the ones it does not run', () => {
  assert.deepEqual(block.commands, ['npm install', 'npm run demo', 'npm test', 'npm run test:long']);
  assert.deepEqual(block.notRun, ['npm install', 'npm test', 'npm run test:long']);
});

test('npm run demo runs (in a temporary folder) and writes its store and report', async (t) => {
  const dir = await tempDir(t, 'netprobe-readme-demo-');
  const out = join(dir, 'netprobe-demo');
  const size = sized({
    quick: ['--clients', '50', '--span', '1d', '--real-clients', '3', '--real-duration', '3s'],
    long: [],
  });
  const { stdout } = await run('npm', ['run', '--silent', 'demo', '--', '--dir', out, ...size], {
    cwd: ROOT,
    timeout: 300_000,
    maxBuffer: 16 << 20,
  });
  assert.match(stdout, /^1\. MODEL ENGINE/m);
  assert.match(stdout, /^3\. REAL ENGINE/m);
  assert.match(stdout, /(\d+) planned, \1 measurements made, \1 stored, 0 missing/);
  assert.ok(existsSync(join(out, 'netprobe.db')), 'the demo store');
  assert.ok(existsSync(join(out, 'report', 'index.html')), 'the demo report');
  assert.ok(stdout.includes(`next: netprobe analyse --store ${join(out, 'netprobe.db')}`), stdout);
  if (size.length === 0) assert.match(stdout, /truth check: busiest hour .* recovered; most congested .* recovered/);
});

test('npm install (not run): the committed package-lock.json installs as it stands (npm ci --dry-run --offline)', async (t) => {
  const dir = await tempDir(t, 'netprobe-readme-lock-');
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(ROOT, f), join(dir, f));
  await run('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, maxBuffer: 16 << 20 });
  // it can fail: a dependency package.json asks for that the lock file does not hold
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  pkg.dependencies.zod = '^3.0.0';
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  await assert.rejects(run('npm', ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir }));
});

test('npm test and npm run test:long (not run): build first, then run the harness, the long one with --suite long', () => {
  assert.ok(existsSync(join(ROOT, 'test', 'harness', 'run.ts')));
  assert.equal(scripts.test, 'node --import tsx test/harness/run.ts');
  assert.equal(scripts['test:long'], 'node --import tsx test/harness/run.ts --suite long');
  assert.equal(scripts.pretest, 'npm run build');
  assert.equal(scripts['pretest:long'], 'npm run build');
});
