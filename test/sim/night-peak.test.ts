/**
 * The night-peak case of issue #23: a custom profile peaking at 03:00 UTC (activity 1.0 at 03, 0.6
 * at 02; capacity 0.25 at 03), 30 clients, --day 12s. The real engine named 02:00 the busiest hour
 * (its transfers smeared across simulated hours); the model engine gets it right, and the real
 * engine now refuses the setting with a --day and a --file that would work.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { execFile } from 'node:child_process';
import { CLI } from '../helpers/process.js';

function runCli(args: string[], o: { timeoutMs: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: o.timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (((err as { code?: unknown }).code as number | null) ?? null) : 0, stdout, stderr });
    });
  });
}

const activity = Array.from({ length: 24 }, (_, h) => (h === 3 ? 1 : h === 2 ? 0.6 : h === 4 ? 0.5 : 0.2));
const capacity = Array.from({ length: 24 }, (_, h) => (h === 3 ? 0.25 : 1));

async function nightProfile(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-night-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const profile = join(dir, 'night.json');
  await writeFile(profile, JSON.stringify({ name: 'night-peak', activity, capacity }));
  return { dir, profile };
}

test('night peak, default (model) engine: the analyser names 03:00 the busiest and congested hour', async (t) => {
  const { dir, profile } = await nightProfile(t);
  const r = await runCli(['simulate', '--profile', profile, '--clients', '30', '--day', '12s', '--out', join(dir, 'sim')], {
    timeoutMs: 120_000,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model engine, 30 virtual clients: (\d+) planned, \1 measurements made .* \1 stored, 0 missing/m);
  assert.match(
    r.stdout,
    /truth check: busiest hour 03:00 \(truth 03:00\) recovered; most congested 03:00 \(truth [0-9:,]*03:00[0-9:,]*\) recovered/,
  );
});

test('night peak, real engine: refused with a --day and a --file that would work, nothing written', async (t) => {
  const { dir, profile } = await nightProfile(t);
  const out = join(dir, 'real');
  const r = await runCli(['simulate', '--engine', 'real', '--profile', profile, '--clients', '30', '--day', '12s', '--out', out], {
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /--engine real: a 1MiB download at 10 Mbit\/s takes 839 ms, \d+ % of a simulated hour at --day 12s \(at most 5 %\): use --day (\S+) or longer, or --file (\S+) or smaller/,
  );
  const [, day, file] = /use --day (\S+) or longer, or --file (\S+) or smaller/.exec(r.stderr)!;
  await assert.rejects(import('node:fs/promises').then((fs) => fs.access(out)));
  // Both suggestions pass the check on their own (they get past it to argument parsing of a bad --clients).
  for (const fix of [
    ['--day', day!],
    ['--file', file!],
  ]) {
    const again = await runCli(
      [
        'simulate',
        '--engine',
        'real',
        '--profile',
        profile,
        '--clients',
        '30',
        '--day',
        '12s',
        ...fix,
        '--duration',
        '1s',
        '--out',
        join(dir, `fix${fix[0]}`),
      ],
      { timeoutMs: 60_000 },
    );
    assert.doesNotMatch(again.stderr, /at most 5 %/, `${fix.join(' ')}: ${again.stderr}`);
  }
});
