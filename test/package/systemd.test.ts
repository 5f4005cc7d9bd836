/**
 * The systemd units in deploy/systemd: `systemd-analyze verify` accepts them without a single
 * warning (it exits 0 even for an unparsable value, so its output must be empty), they carry the
 * hardening the deployment guide promises, and every flag of their ExecStart is one the CLI knows.
 * verify checks that ExecStart's binary exists: it runs against a scratch root (`--root`) holding a
 * copy of the system's units, /usr/bin/kill and an executable /usr/bin/netprobe.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI } from '../helpers/process.js';
import { requireTool } from '../web/helpers.js';

const run = promisify(execFile);
const UNITS = fileURLToPath(new URL('../../deploy/systemd/', import.meta.url));
const SERVER = 'netprobe-server.service';
const CLIENT = 'netprobe-client@.service';

/** Key=value lines of the [Service] section (repeated keys keep the last value). */
function serviceSection(text: string): Map<string, string> {
  const section = text.split(/^\[Service\]$/m)[1]?.split(/^\[/m)[0] ?? '';
  const keys = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) keys.set(m[1]!, m[2]!);
  }
  return keys;
}

test('systemd-analyze verify accepts both units without a warning', async (t) => {
  const analyze = await requireTool('/usr/bin/systemd-analyze', 'install the Debian systemd package to verify the units');
  if (!analyze) return t.skip('systemd-analyze is not installed');
  const root = await mkdtemp(join(tmpdir(), 'netprobe-systemd-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'usr', 'bin'), { recursive: true });
  await mkdir(join(root, 'usr', 'lib', 'systemd'), { recursive: true });
  await mkdir(join(root, 'etc', 'systemd', 'system'), { recursive: true });
  await symlink('usr/bin', join(root, 'bin'));
  await cp('/usr/lib/systemd/system', join(root, 'usr', 'lib', 'systemd', 'system'), { recursive: true });
  await copyFile('/usr/bin/kill', join(root, 'usr', 'bin', 'kill'));
  await writeFile(join(root, 'usr', 'bin', 'netprobe'), '#!/bin/sh\n');
  await chmod(join(root, 'usr', 'bin', 'netprobe'), 0o755);
  for (const unit of [SERVER, CLIENT]) await copyFile(join(UNITS, unit), join(root, 'etc', 'systemd', 'system', unit));

  for (const unit of [SERVER, 'netprobe-client@alice.service']) {
    const out: string = await run(analyze, ['verify', `--root=${root}`, unit]).then(
      (r) => `${r.stdout}${r.stderr}`,
      (err: { stdout: string; stderr: string; code: number }) =>
        assert.fail(`systemd-analyze verify ${unit} exited ${err.code}:\n${err.stderr}${err.stdout}`),
    );
    assert.equal(out.trim(), '', `systemd-analyze verify ${unit} printed warnings`);
  }

  // The check can fail: a misspelt value is reported.
  const broken = (await readFile(join(UNITS, SERVER), 'utf8')).replace('ProtectSystem=strict', 'ProtectSystem=strcit');
  await writeFile(join(root, 'etc', 'systemd', 'system', SERVER), broken);
  const out = await run(analyze, ['verify', `--root=${root}`, SERVER]).then(
    (r) => r.stdout + r.stderr,
    (err: { stdout: string; stderr: string }) => err.stdout + err.stderr,
  );
  assert.match(out, /protect system/i);
});

test('the units run as a dedicated user with the promised hardening, and reload the server with SIGHUP', async () => {
  for (const unit of [SERVER, CLIENT]) {
    const s = serviceSection(await readFile(join(UNITS, unit), 'utf8'));
    assert.equal(s.get('User'), 'netprobe', unit);
    assert.equal(s.get('NoNewPrivileges'), 'yes', unit);
    assert.equal(s.get('ProtectSystem'), 'strict', unit);
    assert.equal(s.get('Restart'), 'on-failure', unit);
    assert.equal(s.get('ReadOnlyPaths'), '/etc/netprobe', unit);
    assert.equal(s.get('CapabilityBoundingSet'), '', unit);
    assert.ok(s.get('StateDirectory'), `${unit} has a StateDirectory`);
  }
  const server = serviceSection(await readFile(join(UNITS, SERVER), 'utf8'));
  assert.equal(server.get('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(server.get('WorkingDirectory'), '/var/lib/netprobe', 'the default store ./netprobe.db lands in the StateDirectory');
  const client = serviceSection(await readFile(join(UNITS, CLIENT), 'utf8'));
  assert.equal(client.get('StateDirectory'), 'netprobe-client/%i');
  assert.match(client.get('ExecStart') ?? '', /--outbox \$\{STATE_DIRECTORY\}\/outbox\.db/);
});

test("every flag of the units' ExecStart is an option of that command", async () => {
  for (const unit of [SERVER, CLIENT]) {
    const exec = serviceSection(await readFile(join(UNITS, unit), 'utf8')).get('ExecStart') ?? '';
    const [binary, command, ...args] = exec.split(/\s+/);
    assert.equal(binary, '/usr/bin/netprobe', 'npm install --global puts the command in /usr/bin (npm prefix -g = /usr)');
    const { stdout: help } = await run(process.execPath, [CLI, command!, '--help']);
    for (const flag of args.filter((a) => a.startsWith('--')))
      assert.ok(help.includes(`${flag} `), `${unit}: netprobe ${command} has no ${flag}`);
  }
});

test("docs/deploy.md's configuration files are valid for the server and the client", async (t) => {
  const { resolveOptions } = await import('../../src/cli/options/resolve.js');
  const { serverTable } = await import('../../src/cli/options/server.js');
  const { clientTable } = await import('../../src/cli/options/client.js');
  const doc = await readFile(fileURLToPath(new URL('../../docs/deploy.md', import.meta.url)), 'utf8');
  const files = [...doc.matchAll(/tee (\S+\.yaml) >\/dev\/null <<'YAML'\n([\s\S]*?)\nYAML\n/g)].map((m) => ({ path: m[1]!, text: m[2]! }));
  assert.deepEqual(
    files.map((f) => f.path),
    ['/etc/netprobe/server.yaml', '/etc/netprobe/client/alice.yaml'],
  );
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-deploy-yaml-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [i, { path, text }] of files.entries()) {
    // Read as `netprobe server|client --config FILE` reads it: unknown keys, bare numbers and deprecated keys fail.
    const file = join(dir, `${i}.yaml`);
    await writeFile(file, text);
    const warnings: string[] = [];
    resolveOptions(path.includes('/client/') ? clientTable : serverTable, {
      flags: { config: file },
      env: {},
      warn: (l) => warnings.push(l),
    });
    assert.deepEqual(warnings, [], path);
  }
});
