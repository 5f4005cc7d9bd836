/**
 * The formatter is part of `npm run lint` (issue #16): `prettier --check .` runs first, with the
 * project's .prettierrc.json, so a misformatted file fails CI. This shows the check failing on a
 * deliberately misformatted file and passing once it is formatted.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const PRETTIER = join(ROOT, 'node_modules', '.bin', 'prettier');

async function check(cwd: string, file: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(PRETTIER, ['--check', file], { cwd, timeout: 60_000 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

test('npm run lint starts with prettier --check over the whole tree', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['lint'] ?? '', /^prettier --check \. /);
});

test('the formatter check fails on a misformatted file and passes once it is formatted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-format-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile(join(ROOT, '.prettierrc.json'), join(dir, '.prettierrc.json'));
  await writeFile(join(dir, 'bad.ts'), 'export const  x = {a:1,\n b : "two"}\n');
  const bad = await check(dir, 'bad.ts');
  assert.notEqual(bad.code, 0, bad.out);
  assert.match(bad.out, /bad\.ts/);
  await writeFile(join(dir, 'bad.ts'), "export const x = { a: 1, b: 'two' };\n");
  const good = await check(dir, 'bad.ts');
  assert.equal(good.code, 0, good.out);
});
