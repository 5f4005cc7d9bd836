/**
 * The published package, installed as README.md's block `install` says (test/docs/readme-blocks.ts):
 * `npm pack` holds only what runs (the built CLI and the fonts) and writes the tarball the README
 * names; `npm install --global` of that tarball, run as written but without sudo and into an empty
 * prefix, gives a `netprobe` whose `--version` runs. Dependencies come from npm's cache
 * (`--prefer-offline`); install scripts are skipped here to keep the test short (the native build of
 * better-sqlite3 takes about a minute; `bench/install.ts` measures the full install), and `prepare`
 * would rebuild dist/ under the feet of the other tests running now.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readmeBlock } from '../docs/readme-blocks.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; bin: Record<string, string> };

test('the package name is scoped (the bare name "netprobe" on npm is another project)', () => {
  assert.match(pkg.name, /^@[a-z0-9-]+\/netprobe$/);
  assert.equal(pkg.bin.netprobe, 'dist/cli/index.js');
});

test('README install block: npm pack holds only what runs and writes the tarball named there, which installs and runs', async (t) => {
  const commands = readmeBlock('install').commands;
  assert.equal(commands.length, 3, `the README's install block: ${commands.join(' | ')}`);
  const [pack, install, version] = commands as [string, string, string];
  assert.equal(pack, 'npm pack');
  const tarballArg = /^sudo npm install --global (\.\/\S+\.tgz)$/.exec(install)?.[1];
  assert.ok(tarballArg, `the README's install command: ${install}`);
  assert.equal(version, 'netprobe --version');
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'index.js')), 'dist/ is missing: run `npm run build` first');
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-pack-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  // --ignore-scripts: `prepare` would rebuild dist/ under the feet of the other tests running now.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  assert.ok(packed);
  assert.equal(`./${packed.filename}`, tarballArg, 'the tarball README.md installs is the one npm pack writes');
  const files = packed.files.map((f) => f.path);
  const outside = files.filter(
    (p) =>
      !p.startsWith('dist/') &&
      !p.startsWith('assets/') &&
      !['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'native/tcp_info.c'].includes(p),
  );
  assert.deepEqual(outside, [], 'only dist/, assets/, the addon source, package.json and README.md are published');
  assert.deepEqual(
    files.filter((p) => p.endsWith('.map') || p.endsWith('.ts') || /(^|\/)(test|bench)\//.test(p)),
    [],
  );
  for (const needed of [
    'dist/cli/index.js',
    'dist/server/worker-main.js',
    'dist/web/assets/dashboard.js',
    'dist/web/assets/index.html',
    'assets/fonts/DejaVuSans.ttf',
    'binding.gyp',
    'native/tcp_info.c',
  ]) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }

  const prefix = join(dir, 'prefix');
  await run(
    'npm',
    ['install', '--global', tarballArg, '--prefix', prefix, '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
    {
      cwd: dir,
      maxBuffer: 16 << 20,
    },
  );
  const printed = await run(join(prefix, 'bin', 'netprobe'), ['--version'], { cwd: dir });
  assert.equal(printed.stdout.trim(), pkg.version);
  const help = await run(join(prefix, 'bin', 'netprobe'), ['--help'], { cwd: dir });
  assert.match(help.stdout, /server/);
  assert.match(help.stdout, /client/);
});
