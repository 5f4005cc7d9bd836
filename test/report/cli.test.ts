/**
 * `netprobe report` as the CLI runs it (in-process, same exit statuses as src/cli/index.ts):
 * writes the report and says where; exit 2 for bad option values; quiet on a non-terminal.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerReport } from '../../src/cli/report.js';
import { exitFor } from '../../src/cli/exit.js';
import { T0, fleet, storeWith, tempDir } from './helpers.js';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function runReport(args: readonly string[], isTTY = false): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const stderrStream = Object.assign(new Writable({ write: (chunk, _enc, done) => ((stderr += String(chunk)), done()) }), { isTTY });
  const program = new Command('netprobe').exitOverride().configureOutput({
    writeOut: (t) => (stdout += t),
    writeErr: (t) => (stderr += t),
    outputError: (t, write) => write(`netprobe: ${t.replace(/^error: /, '')}`),
  });
  registerReport(program, { stdout: { write: (t: string) => (stdout += t) }, stderr: stderrStream, now: () => T0 + 10 * 86_400_000 });
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(['node', 'netprobe', 'report', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, message } = exitFor(err);
    return { code, stdout, stderr: stderr + message };
  }
}

test('netprobe report writes the report and prints where it is; no progress bar off a terminal', async (t) => {
  const { path } = await storeWith(t, fleet(['a', 'b'], 2));
  const out = join(await tempDir(t), 'report');
  const run = await runReport(['--store', path, '--out', out, '--tz', 'Europe/Berlin', '--since', '2025-01-06', '--client', 'a,b']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`^report: ${join(out, 'index.html')}\n`));
  assert.match(run.stdout, /7 charts \(SVG and PNG\)/);
  assert.equal(run.stderr, '');
  for (const file of ['index.html', 'summary.json', 'results.csv', 'charts/throughput.png']) assert.ok(existsSync(join(out, file)), file);
});

test('netprobe report draws a progress bar on a terminal', async (t) => {
  const { path } = await storeWith(t, fleet(['a'], 1));
  const run = await runReport(['--store', path, '--out', join(await tempDir(t), 'r')], true);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /report .*%/);
});

test('bad option values exit 2 with a message', async (t) => {
  const { path } = await storeWith(t, fleet(['a'], 1));
  const out = join(await tempDir(t), 'r');
  const cases: [string[], RegExp][] = [
    [['--store', path, '--tz', 'Mars/Olympus'], /unknown time zone 'Mars\/Olympus'/],
    [['--store', path, '--since', 'yesterday'], /--since/],
    [['--store', path, '--since', '2025-01-08', '--until', '2025-01-07'], /must be before --until/],
    [['--store', path, '--png-scale', '9'], /PNG scale '9' must be a whole number from 1 to 4/],
    [['--store', path, '--threshold', 'nope=1'], /unknown threshold 'nope'/],
    [['--store', join(out, 'missing.db')], /does not exist/],
  ];
  for (const [args, message] of cases) {
    const run = await runReport([...args, '--out', out]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  assert.ok(!existsSync(out), 'nothing written');
});
