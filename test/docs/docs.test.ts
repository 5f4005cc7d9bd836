/**
 * The docs check: every relative link in README.md, SECURITY.md and docs/*.md points at a file that
 * exists (and at a heading that exists, for `file.md#anchor`), and every `--flag` written after
 * `netprobe <command>` in a code block is a flag that command has. The flags come from the commander
 * program itself (`buildProgram`, the same tree `--help` prints, built from the option tables), so
 * no build and no child process is needed. Every `npm run NAME` they write is a script of package.json.
 * The generated documents (docs/cli.md from the option
 * tables, docs/benchmarks.md's latest-results table from bench/results/*.json) must match what their
 * generators write now. The self-tests feed broken or stale documents in memory, one kind each.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import {
  type BenchResultFile,
  benchRowsBegin,
  generatedSection,
  readResults,
  renderLatestResults,
  withBenchRows,
} from '../../bench/table.js';
import { renderCliDocs } from '../../src/cli/options/docs.js';
import { buildProgram } from '../../src/cli/program.js';
import { clientTable } from '../../src/cli/options/client.js';
import { resolveOptions } from '../../src/cli/options/resolve.js';
import { serverTable } from '../../src/cli/options/server.js';
import type { CommandTable } from '../../src/cli/options/table.js';
import { checkOwners, readRepoFile, readmeBlocks } from './readme-blocks.js';

const ROOT = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));

/** Flags each command accepts, keyed by its path: `client`, `certs init`, `store prune`. */
type FlagTable = ReadonlyMap<string, ReadonlySet<string>>;
const GLOBAL_FLAGS = ['--help', '--version'];

export function flagTable(program: Command): FlagTable {
  const table = new Map<string, Set<string>>();
  const walk = (command: Command, path: string[]) => {
    if (path.length > 0) {
      const flags = new Set(GLOBAL_FLAGS);
      for (const option of command.options) if (option.long) flags.add(option.long);
      table.set(path.join(' '), flags);
    }
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return table;
}

/** Fenced code blocks of a Markdown text, with backslash-continued lines joined. */
function codeLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let inBlock = false;
  let pending: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) {
      inBlock = !inBlock;
      return;
    }
    if (!inBlock) return;
    const joined = pending ? { line: pending.line, text: `${pending.text} ${raw.trim()}` } : { line: i + 1, text: raw };
    if (/\\\s*$/.test(raw)) pending = { line: joined.line, text: joined.text.replace(/\\\s*$/, '') };
    else {
      pending = undefined;
      out.push(joined);
    }
  });
  return out;
}

/** Problems with flags: `FILE:LINE: netprobe CMD has no --flag`. */
export function checkFlags(files: ReadonlyMap<string, string>, table: FlagTable): string[] {
  const problems: string[] = [];
  const invocation = /(?:\bnetprobe|dist\/cli\/index\.js)\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?/g;
  for (const [file, text] of files) {
    for (const { line, text: code } of codeLines(text)) {
      const starts = [...code.matchAll(invocation)].filter((m) => table.has(m[1]!) || table.has(`${m[1]} ${m[2]}`));
      starts.forEach((m, k) => {
        const command = table.has(`${m[1]} ${m[2]}`) ? `${m[1]} ${m[2]}` : m[1]!;
        const end = k + 1 < starts.length ? starts[k + 1]!.index : code.length;
        const segment = code.slice(m.index + m[0].length, end);
        for (const flag of segment.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []) {
          if (!table.get(command)!.has(flag)) problems.push(`${file}:${line}: netprobe ${command} has no ${flag}`);
        }
      });
    }
  }
  return problems;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  let inBlock = false;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inBlock = !inBlock;
    const m = !inBlock && /^#{1,6}\s+(.*)$/.exec(line);
    if (m)
      anchors.add(
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
  }
  return anchors;
}

/** Problems with links: `FILE:LINE: broken link TARGET`. Paths are relative to the repository root. */
export function checkLinks(files: ReadonlyMap<string, string>, readOther: (path: string) => string | undefined): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    let inBlock = false;
    text.split('\n').forEach((line, i) => {
      if (/^\s*(```|~~~)/.test(line)) inBlock = !inBlock;
      if (inBlock) return;
      for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : normalize(join(dirname(file), path));
        const body = resolved === file ? text : readOther(resolved);
        if (body === undefined) problems.push(`${file}:${i + 1}: broken link ${target} (no ${resolved})`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(body).has(anchor)) {
          problems.push(`${file}:${i + 1}: broken link ${target} (no heading #${anchor} in ${resolved})`);
        }
      }
    });
  }
  return problems;
}

function readTree(path: string): string | undefined {
  const full = join(ROOT, path);
  if (!existsSync(full)) return undefined;
  try {
    return readFileSync(full, 'utf8');
  } catch {
    return ''; // a directory: exists, no headings
  }
}

function documents(): Map<string, string> {
  const names = [
    'README.md',
    'SECURITY.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((n) => n.endsWith('.md'))
      .map((n) => join('docs', n)),
  ];
  return new Map(names.filter((n) => existsSync(join(ROOT, n))).map((n) => [relative('.', n), readFileSync(join(ROOT, n), 'utf8')]));
}

test('every relative link in README.md, SECURITY.md and docs/*.md resolves (file and heading)', () => {
  assert.deepEqual(checkLinks(documents(), readTree), []);
  // it looked at something: with no file existing, every relative link is reported
  assert.ok(checkLinks(documents(), () => undefined).length >= 30, 'fewer relative links found than the docs hold');
});

test('every --flag after `netprobe <command>` in a README/docs code block is one that command has', async () => {
  const table = flagTable(await buildProgram());
  for (const command of ['server', 'client', 'analyse', 'report', 'certs init', 'simulate', 'demo', 'store prune']) {
    assert.ok(table.has(command), `the CLI has no command ${command}`);
  }
  assert.deepEqual(checkFlags(documents(), table), []);
  // it looked at something: with commands that have no flags, every flag written is reported
  const none = new Map([...table.keys()].map((k) => [k, new Set<string>()]));
  assert.ok(checkFlags(documents(), none).length >= 50, 'fewer flags found in code blocks than the docs hold');
});

/** Problems with npm scripts: `FILE:LINE: npm run NAME is no script of package.json`, in code blocks and inline code. */
export function checkScripts(files: ReadonlyMap<string, string>, scripts: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of files) {
    text.split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\bnpm run ([a-z][a-z0-9:-]*)/g)) {
        if (!scripts.has(m[1]!)) problems.push(`${file}:${i + 1}: npm run ${m[1]} is no script of package.json`);
      }
    });
  }
  return problems;
}

const SCRIPTS = new Set(
  Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts),
);

test('every `npm run NAME` in README.md, SECURITY.md and docs/*.md is a script of package.json', () => {
  assert.deepEqual(checkScripts(documents(), SCRIPTS), []);
  assert.ok(checkScripts(documents(), new Set()).length >= 20, 'fewer npm run commands found than the docs hold');
});

test('self-test: an npm script package.json does not have is reported', () => {
  const files = new Map([
    ['docs/a.md', 'Regenerate it with `npm run docs:benches`.\n\n```sh\nnpm run bench -- --quick && npm run docs:bench\n```\n'],
  ]);
  assert.deepEqual(checkScripts(files, SCRIPTS), ['docs/a.md:1: npm run docs:benches is no script of package.json']);
});

const SELF_TEST_DOCS = new Map([
  ['README.md', '# Top\n\nSee [cli](docs/cli.md), [here](#top), [gone](docs/missing.md) and [bad](docs/a.md#nowhere).\n'],
  [
    'docs/a.md',
    '# A page\n\n## `netprobe client`\n\n[back](../README.md#top) [anchor](#netprobe-client)\n\n```sh\nnetprobe client -s h:7443 --interval 60s \\\n    --bogus-flag 1   # and netprobe server --port 1 --nope\nnetprobe store prune --older-than 90d --yes\n```\n',
  ],
]);
const selfTestRead = (path: string) => SELF_TEST_DOCS.get(path) ?? (path === 'docs/cli.md' ? '' : undefined);

test('self-test: a broken relative link and a link to a missing heading are reported', () => {
  assert.deepEqual(checkLinks(SELF_TEST_DOCS, selfTestRead), [
    'README.md:3: broken link docs/missing.md (no docs/missing.md)',
    'README.md:3: broken link docs/a.md#nowhere (no heading #nowhere in docs/a.md)',
  ]);
  const fixed = new Map(
    [...SELF_TEST_DOCS].map(([k, v]) => [k, v.replace(' and [bad](docs/a.md#nowhere)', '').replace(', [gone](docs/missing.md)', '')]),
  );
  assert.deepEqual(checkLinks(fixed, selfTestRead), []);
});

test('self-test: a code block naming a flag the command does not have is reported', async () => {
  const table = flagTable(await buildProgram());
  assert.deepEqual(checkFlags(SELF_TEST_DOCS, table), [
    'docs/a.md:8: netprobe client has no --bogus-flag',
    'docs/a.md:8: netprobe server has no --nope',
  ]);
  const fixed = new Map([...SELF_TEST_DOCS].map(([k, v]) => [k, v.replace('--bogus-flag 1', '--jitter 20%').replace(' --nope', '')]));
  assert.deepEqual(checkFlags(fixed, table), []);
});

/** A generated document (or the generated part of one) and the command that regenerates it. */
interface Generated {
  path: string;
  /** Which text is generated, and from what. */
  what: string;
  command: string;
  /** The generated part of the document's text; undefined when the document has none. */
  part: (text: string) => string | undefined;
  expected: () => string;
}

const BENCH_RESULTS = join(ROOT, 'bench', 'results');

const GENERATED: Generated[] = [
  {
    path: 'docs/cli.md',
    what: 'the document (generated from the option tables, src/cli/options/)',
    command: 'npm run docs:cli',
    part: (text) => text,
    expected: renderCliDocs,
  },
  {
    path: 'docs/benchmarks.md',
    what: 'its latest-results table (generated from bench/results/*.json)',
    command: 'npm run docs:bench',
    part: generatedSection,
    expected: () => renderLatestResults(readResults(BENCH_RESULTS)),
  },
  {
    path: 'docs/simulator.md',
    what: 'its simulate rows (generated from bench/results/simulate.json)',
    command: 'npm run docs:bench',
    part: (text) => (text.includes(benchRowsBegin('simulate')) ? text : undefined),
    expected: () => withBenchRows(readFileSync(join(ROOT, 'docs', 'simulator.md'), 'utf8'), readResults(BENCH_RESULTS)),
  },
];

/** Problems with generated documents: each names the first line that differs and the command to run. */
export function checkGenerated(files: ReadonlyMap<string, string>, generated: readonly Generated[]): string[] {
  const problems: string[] = [];
  for (const g of generated) {
    const text = files.get(g.path);
    const part = text === undefined ? undefined : g.part(text);
    if (part === undefined) {
      problems.push(`${g.path} lacks ${g.what}: run ${g.command}`);
      continue;
    }
    const expected = g.expected();
    if (part === expected) continue;
    const have = part.split('\n');
    const want = expected.split('\n');
    const i = want.findIndex((line, k) => have[k] !== line);
    const at = i < 0 ? have.length : i;
    problems.push(
      `${g.path} is stale: ${g.what} differs from what its generator writes now (line ${at + 1} of it has ${JSON.stringify(have[at] ?? '')}, should be ${JSON.stringify(want[at] ?? '')}): run ${g.command}`,
    );
  }
  return problems;
}

const readDoc = (path: string): [string, string] => [path, readFileSync(join(ROOT, path), 'utf8')];

test('the generated documents are up to date: docs/cli.md (npm run docs:cli), docs/benchmarks.md and docs/simulator.md (npm run docs:bench)', () => {
  assert.ok(readResults(BENCH_RESULTS).length >= 8, 'fewer bench results found than bench/results holds');
  assert.deepEqual(checkGenerated(new Map(GENERATED.map((g) => readDoc(g.path))), GENERATED), []);
});

test('self-test: a stale generated document is reported with the command that regenerates it', () => {
  const files = new Map(GENERATED.map((g) => readDoc(g.path)));
  // docs/cli.md edited by hand: a default changed in the document only.
  const cli = files.get('docs/cli.md')!;
  const edited = cli.replace(/\| `60s` \|/, '| `30s` |');
  assert.notEqual(edited, cli, 'docs/cli.md has no `60s` default to edit');
  const cliProblems = checkGenerated(new Map([['docs/cli.md', edited]]), GENERATED.slice(0, 1));
  assert.equal(cliProblems.length, 1, cliProblems.join('\n'));
  assert.match(cliProblems[0]!, /^docs\/cli\.md is stale: the document .*`30s`.*`60s`.*: run npm run docs:cli$/);

  // A bench wrote a new result and nobody regenerated the table: the same document, newer JSON.
  const results = readResults(BENCH_RESULTS);
  const newer: BenchResultFile[] = results.map((r) =>
    r.bench === 'throughput'
      ? { ...r, at: '2026-12-05T12:00:00.000Z', rows: r.rows!.map((row, k) => (k === 0 ? { ...row, netprobe: 12345 } : row)) }
      : r,
  );
  const bench: Generated = { ...GENERATED[1]!, expected: () => renderLatestResults(newer) };
  const problems = checkGenerated(files, [bench]);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^docs\/benchmarks\.md is stale: its latest-results table .*2026-12-05 12:00.*: run npm run docs:bench$/);
  // regenerated, it passes; without its markers it is reported too
  const regenerated = files
    .get('docs/benchmarks.md')!
    .replace(generatedSection(files.get('docs/benchmarks.md')!)!, renderLatestResults(newer));
  assert.deepEqual(checkGenerated(new Map([['docs/benchmarks.md', regenerated]]), [bench]), []);
  assert.match(
    checkGenerated(new Map([['docs/benchmarks.md', '# Benchmarks\n']]), [bench])[0] ?? '',
    /lacks its latest-results table .*: run npm run docs:bench$/,
  );
  // docs/simulator.md's simulate rows edited by hand (a figure the JSON does not hold): reported;
  // regenerated from the JSON, it passes
  const simulator = files.get('docs/simulator.md')!;
  const handEdited = simulator.replace(/(\| simulate \| real 200 clients [^|]*\| )100( \|)/, '$150$2');
  assert.notEqual(handEdited, simulator, 'docs/simulator.md has no generated real-engine row to edit');
  const sim: Generated = { ...GENERATED[2]!, expected: () => withBenchRows(handEdited, results) };
  const simProblems = checkGenerated(new Map([['docs/simulator.md', handEdited]]), [sim]);
  assert.equal(simProblems.length, 1, simProblems.join('\n'));
  assert.match(simProblems[0]!, /^docs\/simulator\.md is stale: its simulate rows .*\| 50 \|.*\| 100 \|.*: run npm run docs:bench$/);
  assert.deepEqual(checkGenerated(new Map([['docs/simulator.md', withBenchRows(handEdited, results)]]), [sim]), []);
});

/** The YAML blocks under each `## Server` / `## Client` heading of a configuration document. */
function yamlBlocks(text: string): { command: 'server' | 'client'; yaml: string }[] {
  const out: { command: 'server' | 'client'; yaml: string }[] = [];
  for (const part of text.split(/^## /m).slice(1)) {
    const command = /^Server\b/.test(part) ? 'server' : /^Client\b/.test(part) ? 'client' : undefined;
    if (!command) continue;
    for (const m of part.matchAll(/```yaml\n([\s\S]*?)```/g)) out.push({ command, yaml: m[1]! });
  }
  return out;
}

/** Each example resolved as the command would read it (`--config FILE`): the error, or undefined. */
function resolveExamples(text: string, t: { after: (fn: () => void) => void }): (string | undefined)[] {
  const dir = mkdtempSync(join(tmpdir(), 'netprobe-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const tables: Record<string, CommandTable> = { server: serverTable, client: clientTable };
  return yamlBlocks(text).map(({ command, yaml }, i) => {
    const file = join(dir, `${command}-${i}.yaml`);
    writeFileSync(file, yaml);
    try {
      resolveOptions(tables[command]!, { flags: { config: file }, env: {}, warn: () => {} });
      return undefined;
    } catch (error) {
      return `${command}: ${(error as Error).message}`;
    }
  });
}

test('the server and client YAML examples of docs/configuration.md load as the commands read them', (t) => {
  const results = resolveExamples(readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8'), t);
  assert.ok(results.length >= 2, 'docs/configuration.md has no server and client YAML examples');
  assert.deepEqual(
    results.filter((r) => r !== undefined),
    [],
  );
});

test('self-test: a config example with an unknown key or a duration without its unit is refused', (t) => {
  const doc =
    '## Server\n\n```yaml\nport: 7443\nstatsIntervall: 60s\n```\n\n## Client\n\n```yaml\nserver: [a:7443]\ncert: c.crt\nkey: c.key\ninterval: 60\n```\n';
  const results = resolveExamples(doc, t);
  assert.equal(results.length, 2);
  assert.match(results[0] ?? '', /^server: .*statsIntervall/);
  assert.match(results[1] ?? '', /^client: .*interval/);
});

test('every code block of README.md names the test that runs it, and that test reads it', () => {
  const { blocks, problems } = readmeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  assert.deepEqual([...problems, ...checkOwners(blocks, readRepoFile)], []);
  assert.ok(blocks.length >= 3, 'fewer README code blocks found than README.md holds');
});

test('self-test: an unannotated README block, a "not run" command it lacks, an owner that does not read it', () => {
  const readme = [
    '# R',
    '<!-- readme-test: a · test/x.test.ts · not run: npm test; npm run nope -->',
    '',
    '```sh',
    'npm ci && npm test   # both',
    '```',
    '',
    '```sh',
    'npm run demo',
    '```',
    '<!-- readme-test: b · test/y.test.ts -->',
    '```',
    'npx netprobe --version',
    '```',
  ].join('\n');
  const { blocks, problems } = readmeBlocks(readme);
  assert.deepEqual(problems, [
    'README.md:4: "not run: npm run nope" is no command of block a',
    'README.md:8: a code block without "<!-- readme-test: NAME · test/FILE.test.ts[ · not run: CMD; CMD] -->" above it',
  ]);
  assert.deepEqual(
    blocks.map((b) => [b.name, b.owner, b.commands]),
    [
      ['a', 'test/x.test.ts', ['npm ci', 'npm test']],
      ['b', 'test/y.test.ts', ['npx netprobe --version']],
    ],
  );
  const files = new Map([['test/x.test.ts', "readmeBlock('a')"]]);
  assert.deepEqual(
    checkOwners(blocks, (p) => files.get(p)),
    ['README.md:12: block b: no test/y.test.ts'],
  );
  files.set('test/y.test.ts', "readmeBlock('a')");
  assert.deepEqual(
    checkOwners(blocks, (p) => files.get(p)),
    ['README.md:12: block b: test/y.test.ts does not read it'],
  );
});
