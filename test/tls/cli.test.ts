/** `netprobe certs` through the built CLI entry point (`npm test` builds first), as a child process. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI } from '../helpers/process.js';
import { makeTempDir } from './helpers.js';

interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function runCli(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], (error, stdout, stderr) => {
      const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ exitCode, stdout, stderr });
    });
  });
}

test('certs init and certs client write the files and print their paths', async (t) => {
  const dir = join(await makeTempDir(t), 'certs');

  const init = await runCli(['certs', 'init', '--dir', dir, '--host', 'probe.example.org']);
  assert.equal(init.exitCode, 0, init.stderr);
  for (const file of ['ca.crt', 'ca.key', 'server.crt', 'server.key']) {
    assert.ok(init.stdout.includes(`wrote ${join(dir, file)}\n`), init.stdout);
  }
  assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key']);

  const client = await runCli(['certs', 'client', 'bob', '--dir', dir]);
  assert.equal(client.exitCode, 0, client.stderr);
  assert.equal(client.stdout, `wrote ${join(dir, 'clients', 'bob.crt')}\nwrote ${join(dir, 'clients', 'bob.key')}\n`);
  assert.equal((await stat(join(dir, 'clients', 'bob.key'))).mode & 0o777, 0o600);

  const again = await runCli(['certs', 'client', 'bob', '--dir', dir]);
  assert.equal(again.exitCode, 1);
  assert.match(again.stderr, /bob\.key already exists: use --force to overwrite it \(NETPROBE_CERT\)/);
  const forced = await runCli(['certs', 'client', 'bob', '--dir', dir, '--force']);
  assert.equal(forced.exitCode, 0, forced.stderr);
});

test('certs client with a bad name exits 1 with a clear message', async (t) => {
  const dir = await makeTempDir(t);
  const result = await runCli(['certs', 'client', 'bad/name', '--dir', dir]);
  assert.equal(result.exitCode, 1);
  assert.match(result.stderr, /^netprobe: invalid client name 'bad\/name': .*\(NETPROBE_CERT\)\n$/);
  assert.equal(result.stdout, '');
});

test('certs client without a CA exits 1 and says how to create one', async (t) => {
  const dir = await makeTempDir(t);
  const result = await runCli(['certs', 'client', 'alice', '--dir', dir]);
  assert.equal(result.exitCode, 1);
  assert.match(result.stderr, /no CA in .*run netprobe certs init --dir .* first/);
});

test('certs init with an unknown option exits 2', async () => {
  const result = await runCli(['certs', 'init', '--bogus']);
  assert.equal(result.exitCode, 2);
  assert.match(result.stderr, /unknown option '--bogus'/);
});

test('the CLI loads only the command it runs; --help still lists every command; unknown names exit 2', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.exitCode, 0);
  for (const name of ['server', 'client', 'analyse', 'report', 'certs', 'simulate', 'demo', 'store'])
    assert.match(help.stdout, new RegExp(`\\n  ${name}\\b`));
  // A name every object has (Object.prototype) must not be taken for a command.
  const names = ['bogus', 'toString', 'constructor'];
  const results = await Promise.all(names.map((name) => runCli([name])));
  names.forEach((name, i) => {
    assert.equal(results[i]!.exitCode, 2, `${name}: ${results[i]!.stderr}`);
    assert.match(results[i]!.stderr, new RegExp(`unknown command '${name}'`));
  });
});
