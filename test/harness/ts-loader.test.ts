/**
 * test/harness/ts-register.mjs, the TypeScript loader of the test processes: `./name.js` in a .ts
 * file is `./name.ts`, TypeScript-only syntax is compiled, stack traces name the .ts line, and a
 * changed file is compiled again (its cache is keyed by the file's text, not its name).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { TS_REGISTER } from './test-process.js';

const run = promisify(execFile);

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-ts-loader-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const lib = (n: number) => `
export type Answer = { n: number };
export class Box {
  readonly doubled: number;
  constructor(public readonly value: number) {
    this.doubled = value * 2;
  }
}
export function answer(): Answer {
  return { n: ${n} };
}
export function fail(): never {
  throw new Error('thrown on line 13');
}
`;

const main = `
import { type Answer, Box, answer, fail } from './lib.js';
import * as lib from './lib.js';
const a: Answer = answer();
const box = new Box(a.n);
if (process.argv[2] === 'fail') fail();
console.log(JSON.stringify({ n: a.n, value: box.value, doubled: box.doubled, exports: Object.keys(lib).sort() }));
`;

test('a .ts file importing ./lib.js runs lib.ts, compiled; a changed lib.ts is compiled again', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'main.ts'), main);
  await writeFile(join(dir, 'lib.ts'), lib(21));
  const first = await run(process.execPath, ['--import', TS_REGISTER, join(dir, 'main.ts')]);
  assert.deepEqual(JSON.parse(first.stdout), { n: 21, value: 21, doubled: 42, exports: ['Box', 'answer', 'fail'] });
  await writeFile(join(dir, 'lib.ts'), lib(50));
  const second = await run(process.execPath, ['--import', TS_REGISTER, join(dir, 'main.ts')]);
  assert.deepEqual(JSON.parse(second.stdout), { n: 50, value: 50, doubled: 100, exports: ['Box', 'answer', 'fail'] });
});

test('a stack trace names the .ts file and line', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'main.ts'), main);
  await writeFile(join(dir, 'lib.ts'), lib(1));
  const err = await run(process.execPath, ['--import', TS_REGISTER, join(dir, 'main.ts'), 'fail']).then(
    () => assert.fail('main.ts fail exits non-zero'),
    (e: { stderr: string }) => e,
  );
  assert.match(err.stderr, /thrown on line 13/);
  assert.match(err.stderr, new RegExp(`${join(dir, 'lib.ts').replace(/[.]/g, '\\.')}:13:`));
});

test('a missing module is an error naming it, not a silent .ts guess', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'main.ts'), "import './absent.js';\n");
  const err = await run(process.execPath, ['--import', TS_REGISTER, join(dir, 'main.ts')]).then(
    () => assert.fail('main.ts exits non-zero'),
    (e: { stderr: string }) => e,
  );
  assert.match(err.stderr, /ERR_MODULE_NOT_FOUND[^]*absent\.js|absent\.js[^]*ERR_MODULE_NOT_FOUND/);
});
