/**
 * What a server process loads (issue 18: memory). A worker has no store and a server without `http`
 * no dashboard, so neither loads their packages: pg costs a process ~15 MiB of RSS, better-sqlite3
 * ~6 MiB, the dashboard ~5 MiB.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

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
