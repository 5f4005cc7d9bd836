/**
 * What a server process loads (issue 18: memory). A worker has no store and a server without `http`
 * no dashboard, so neither loads their packages: pg costs a process ~15 MiB of RSS, better-sqlite3
 * ~6 MiB, the dashboard ~5 MiB.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workerExecArgv } from '../../src/server/cluster.js';
import { WORKER_YOUNG_GENERATION_FLAG } from '../../src/server/engine.js';

/** CommonJS packages a fresh process has loaded after importing `modules` (their code, not run). */
function packagesLoadedBy(modules: readonly string[]): Promise<string[]> {
  const urls = modules.map((m) => new URL(`../../src/${m}`, import.meta.url).href);
  const script = [
    "import { createRequire } from 'node:module';",
    ...urls.map((u) => `await import(${JSON.stringify(u)});`),
    'const req = createRequire(import.meta.url);',
    'process.stdout.write(JSON.stringify(Object.keys(req.cache)));',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${err.message}\n${stderr}`));
        const files = JSON.parse(stdout) as string[];
        resolve([...new Set(files.map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1]).filter((p) => p !== undefined))]);
      },
    );
  });
}

test('a server worker loads no store driver; the server command loads no dashboard without http', async () => {
  const worker = await packagesLoadedBy(['server/worker.ts']);
  assert.ok(worker.includes('pino'), `the probe sees CommonJS packages: ${worker.join(', ')}`);
  for (const pkg of ['pg', 'better-sqlite3', 'prom-client']) assert.ok(!worker.includes(pkg), `worker loads ${pkg}`);
  const serve = await packagesLoadedBy(['cli/serve.ts']);
  for (const pkg of ['pg', 'better-sqlite3', 'prom-client']) assert.ok(!serve.includes(pkg), `cli/serve.ts loads ${pkg}`);
});

/**
 * The new space's size (MiB, both semi-spaces) in a fresh node (the built JavaScript, as the CLI
 * runs: a TypeScript loader's own allocations would grow it first) that runs `setup` (a script body,
 * top-level await allowed), then allocates objects that survive several scavenges: V8 grows a young
 * generation that keeps survivors (up to 16 MiB semi-spaces) unless it is held at its start.
 */
function newSpaceAfter(setup: string, nodeFlags: readonly string[] = []): Promise<number> {
  const script = [
    "import { getHeapSpaceStatistics } from 'node:v8';",
    setup,
    'const keep = [];',
    'for (let i = 0; i < 400_000; i++) keep.push({ i, s: String(i) });',
    "const space = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');",
    'process.stdout.write(String(space.space_size / 2 ** 20));',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeFlags, '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '' } },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(Number(stdout))),
    );
  });
}

test('netprobe server holds its young generation at 1 MiB semi-spaces, as its workers are started with', async () => {
  const program = JSON.stringify(new URL('../../dist/cli/program.js', import.meta.url).href);
  // The control: the same survivors grow a young generation left alone (the client command's).
  const client = await newSpaceAfter(`await (await import(${program})).buildProgram(['node', 'netprobe', 'client']);`);
  assert.ok(client > 2, `a young generation left alone grows: ${client} MiB`);
  const loadServer = `await (await import(${program})).buildProgram(['node', 'netprobe', 'server']);`;
  const server = await newSpaceAfter(loadServer);
  assert.ok(server <= 2, `netprobe server's new space: ${server} MiB`);
  // node's own flag on the command line is the operator's override.
  const chosen = await newSpaceAfter(loadServer, ['--max-semi-space-size=8']);
  assert.ok(chosen > 2, `netprobe server under node --max-semi-space-size=8: ${chosen} MiB`);
  assert.ok(workerExecArgv([], false, false).includes(WORKER_YOUNG_GENERATION_FLAG));
});
