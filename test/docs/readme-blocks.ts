/**
 * README.md's code blocks and the tests that run them. Every fenced block in README.md is preceded
 * by one annotation naming the block, the test file that runs it, and the commands that test does
 * not run as written (each one checked another way there, with the reason):
 *
 *   <!-- readme-test: install · test/package/install.test.ts -->
 *   <!-- readme-test: setup · test/docs/readme.test.ts · not run: npm test; npm run test:long -->
 *
 * test/docs/docs.test.ts checks that every block has one, that the named file exists and reads the
 * block (`readmeBlock('NAME')`), and that each "not run" command is one of the block's commands.
 * The owning test asserts the block's exact command list, so a command added to the README fails
 * there until it is run or checked.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

export interface ReadmeBlock {
  name: string;
  /** The test file that runs it, relative to the repository root. */
  owner: string;
  /** 1-based line of the opening fence. */
  line: number;
  /**
   * The block's commands: `\`-continued lines joined, comments and blank lines dropped, `a && b`
   * split into two.
   */
  commands: string[];
  /** Commands the owner does not run as written (it checks them another way). */
  notRun: string[];
}

const ANNOTATION = /^<!-- readme-test: ([a-z][a-z0-9-]*) · (\S+\.test\.ts)(?: · not run: ([^>]*?))? -->$/;

/** The commands of a block's body. */
export function commandsOf(body: string): string[] {
  return body
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '')
    .flatMap((l) => l.split(/\s+&&\s+/));
}

/** Every fenced block with its annotation; a missing or malformed annotation is a problem. */
export function readmeBlocks(readme: string): { blocks: ReadmeBlock[]; problems: string[] } {
  const blocks: ReadmeBlock[] = [];
  const problems: string[] = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^\s*(```|~~~)/.test(lines[i]!)) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && !/^\s*(```|~~~)/.test(lines[end]!)) end++;
    i = end;
    let k = start - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const above = k >= 0 ? lines[k]! : '';
    const m = ANNOTATION.exec(above.trim());
    if (!m) {
      problems.push(
        `README.md:${start + 1}: a code block without "<!-- readme-test: NAME · test/FILE.test.ts[ · not run: CMD; CMD] -->" above it`,
      );
      continue;
    }
    const commands = commandsOf(lines.slice(start + 1, end).join('\n'));
    const notRun = m[3] ? m[3].split(';').map((c) => c.trim()) : [];
    for (const c of notRun)
      if (!commands.includes(c)) problems.push(`README.md:${start + 1}: "not run: ${c}" is no command of block ${m[1]}`);
    if (blocks.some((b) => b.name === m[1])) problems.push(`README.md:${start + 1}: a second block named ${m[1]}`);
    blocks.push({ name: m[1]!, owner: m[2]!, line: start + 1, commands, notRun });
  }
  return { blocks, problems };
}

/** Problems with the owners: a file that does not exist, or does not read its block. */
export function checkOwners(blocks: readonly ReadmeBlock[], readFile: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const b of blocks) {
    const source = readFile(b.owner);
    if (source === undefined) problems.push(`README.md:${b.line}: block ${b.name}: no ${b.owner}`);
    else if (!source.includes(`readmeBlock('${b.name}'`))
      problems.push(`README.md:${b.line}: block ${b.name}: ${b.owner} does not read it`);
  }
  return problems;
}

export const readRepoFile = (path: string): string | undefined =>
  existsSync(join(ROOT, path)) ? readFileSync(join(ROOT, path), 'utf8') : undefined;

/** The named block of README.md (its annotation checked). */
export function readmeBlock(name: string, readme = README): ReadmeBlock {
  const { blocks } = readmeBlocks(readme);
  const block = blocks.find((b) => b.name === name);
  assert.ok(block, `README.md has no block annotated "readme-test: ${name}"`);
  return block;
}
