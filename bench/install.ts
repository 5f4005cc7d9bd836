/**
 * Install time of the packed package, as a user installs it: `npm pack`, then `npm install --global`
 * of the tarball into an empty prefix, install scripts run (better-sqlite3 compiles from source when
 * no prebuilt binary can be downloaded, as on this machine). Dependencies come from npm's cache when
 * present (`--prefer-offline`), so the number is the local work, not the download. Then the installed
 * `netprobe` makes certificates and starts a server on the SQLite store (the native module works).
 *
 *   node --import tsx bench/install.ts     (--quick skips it: the package test covers pack + install)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUICK, execFileAsync, printTable, spawnReady, writeResult, type BenchRow } from './lib.js';

if (QUICK) {
  // The install compiles better-sqlite3 from source (about 90 s on an idle 2-core machine, over the
  // --quick budget when busy); pack + install into an empty prefix is checked by the package test.
  const why = '--quick: the install builds better-sqlite3 from source (~90 s); measured in the full run';
  process.stdout.write(`install: skipped: ${why}\n`);
  await writeResult('install', [], { skipped: why });
  process.exit(0);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'netprobe-install-'));
try {
  const packed = await execFileAsync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; unpackedSize: number; entryCount: number }[];
  if (!info) throw new Error('npm pack wrote nothing');
  const prefix = join(dir, 'prefix');
  const t0 = performance.now();
  await execFileAsync(
    'npm',
    ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, info.filename)],
    {
      cwd: dir,
      maxBuffer: 64 << 20,
    },
  );
  const installSeconds = (performance.now() - t0) / 1000;
  const bin = join(prefix, 'bin', 'netprobe');
  await execFileAsync(bin, ['certs', 'init', '--dir', join(dir, 'certs')], { cwd: dir });
  const c = join(dir, 'certs');
  const { child } = await spawnReady(
    bin,
    [
      'server',
      '--workers',
      '1',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--builtin-files',
      '1MiB',
      '--store',
      join(dir, 'n.db'),
      '--ca',
      join(c, 'ca.crt'),
      '--cert',
      join(c, 'server.crt'),
      '--key',
      join(c, 'server.key'),
    ],
    (line) => line.includes('"listening"'),
  );
  child.kill('SIGTERM');
  const rows: BenchRow[] = [
    {
      bench: 'install',
      metric: 'npm install --global of the packed tarball (cached dependencies, native build included)',
      netprobe: installSeconds,
      unit: 's (lower is better)',
    },
    { bench: 'install', metric: 'packed tarball size', netprobe: info.size / 2 ** 20, unit: 'MiB' },
  ];
  printTable(rows);
  await writeResult('install', rows, { files: info.entryCount, unpackedBytes: info.unpackedSize });
} finally {
  await rm(dir, { recursive: true, force: true });
}
