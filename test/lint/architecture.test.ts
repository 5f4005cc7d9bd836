/**
 * docs/ARCHITECTURE.md's layout table and .dependency-cruiser.cjs say the same thing: every folder of
 * src/ has a row and a `layer-FOLDER` rule allowing exactly the folders its "may import" cell names;
 * an arrow the cell narrows, "(types only…)" or "(only `file.ts`…)", has the rule that enforces it,
 * and every such rule is in the table; every rule the document names exists. Read from the config's
 * rules themselves, so a rule edited by hand is compared as it is. The self-test feeds a table with
 * each kind of disagreement.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Rule {
  name: string;
  from: { path?: string; pathNot?: string };
  to: { path?: string; pathNot?: string | string[]; dependencyTypesNot?: string[]; circular?: boolean };
}

/** One arrow of the table: `to` names a folder; `typesOnly` / `onlyFiles` when the cell narrows it. */
interface Arrow {
  to: string;
  typesOnly: boolean;
  onlyFiles: string[];
}

/** The layout table: folder → its arrows (`everything` for the CLI: undefined). */
export function layoutTable(doc: string): Map<string, Arrow[] | undefined> {
  const section = doc.split(/^## /m).find((s) => s.startsWith('Layout'));
  assert.ok(section, 'docs/ARCHITECTURE.md has no "## Layout" section');
  const table = new Map<string, Arrow[] | undefined>();
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z]+)\/` \|/.exec(line);
    if (!m) continue;
    const cells = line.split('|').map((c) => c.trim());
    const cell = cells[cells.length - 2]!;
    if (cell === 'everything') table.set(m[1]!, undefined);
    else if (cell === 'nothing of ours') table.set(m[1]!, []);
    else table.set(m[1]!, splitTop(cell).map(arrowOf));
  }
  return table;
}

/** Splits at commas outside parentheses. */
function splitTop(cell: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < cell.length; i++) {
    if (cell[i] === '(') depth++;
    else if (cell[i] === ')') depth--;
    else if (cell[i] === ',' && depth === 0) {
      parts.push(cell.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(cell.slice(start).trim());
  return parts;
}

function arrowOf(item: string): Arrow {
  const m = /^([a-z]+)(?:\s*\((.*)\))?$/.exec(item);
  assert.ok(m, `a "may import" entry that names no folder: ${item}`);
  const note = m[2] ?? '';
  const only = /^only ((?:`[^`]+`(?:,\s*|\s+and\s+)?)+)/.exec(note);
  return {
    to: m[1]!,
    typesOnly: /^types only\b/.test(note),
    onlyFiles: only ? [...only[1]!.matchAll(/`([^`]+)`/g)].map((f) => f[1]!) : [],
  };
}

const folderOf = (path: string | undefined): string | undefined => /^\^src\/([a-z]+)\/$/.exec(path ?? '')?.[1];

/** Disagreements between the table (and the rule names the document writes) and the config's rules. */
export function disagreements(doc: string, rules: readonly Rule[], folders: readonly string[]): string[] {
  const problems: string[] = [];
  const table = layoutTable(doc);
  for (const f of folders) if (!table.has(f)) problems.push(`src/${f}/ has no row in the layout table`);
  for (const f of table.keys()) if (!folders.includes(f)) problems.push(`the layout table has a row for src/${f}/, which does not exist`);

  const byName = new Map(rules.map((r) => [r.name, r]));
  for (const [from, arrows] of table) {
    const rule = byName.get(`layer-${from}`);
    if (arrows === undefined) {
      if (rule) problems.push(`src/${from}/ may import everything in the table, but the config has rule layer-${from}`);
      continue;
    }
    if (!rule) {
      problems.push(`src/${from}/ has no rule layer-${from} in .dependency-cruiser.cjs`);
      continue;
    }
    const notPaths = Array.isArray(rule.to.pathNot) ? rule.to.pathNot : [rule.to.pathNot ?? ''];
    const allowedRe = notPaths.map((p) => /^\^src\/\(([a-z|]+)\)\/$/.exec(p)).find((m) => m);
    const allowed = new Set((allowedRe?.[1] ?? '').split('|').filter((f) => f !== from && f !== ''));
    const named = new Set(arrows.map((a) => a.to));
    for (const to of named) if (!allowed.has(to)) problems.push(`the table lets src/${from}/ import ${to}/, rule layer-${from} does not`);
    for (const to of allowed) if (!named.has(to)) problems.push(`rule layer-${from} lets src/${from}/ import ${to}/, the table does not`);
  }

  // Narrowed arrows: the table's notes against the rules that enforce them.
  const narrowed = new Set<string>();
  for (const [from, arrows] of table) {
    for (const a of arrows ?? []) {
      if (a.typesOnly) {
        const name = `${from}-uses-${a.to}-types-only`;
        narrowed.add(name);
        const r = byName.get(name);
        const enforces =
          r && folderOf(r.from.path) === from && folderOf(r.to.path) === a.to && r.to.dependencyTypesNot?.includes('type-only');
        if (!enforces) problems.push(`the table says src/${from}/ uses ${a.to}/ types only; no rule ${name} enforces it`);
      }
      if (a.onlyFiles.length > 0) {
        const name = `${from}-uses-${a.to}-${a.onlyFiles.map((f) => f.replace(/\.ts$/, '')).join('-')}-only`;
        narrowed.add(name);
        const r = byName.get(name);
        const expected = `^src/${a.to}/(${a.onlyFiles.map((f) => f.replace(/[.]/g, '\\.')).join('|')})$`;
        const enforces = r && folderOf(r.from.path) === from && folderOf(r.to.path) === a.to && r.to.pathNot === expected;
        if (!enforces)
          problems.push(`the table says src/${from}/ imports only ${a.onlyFiles.join(', ')} of ${a.to}/; no rule ${name} enforces it`);
      }
    }
  }
  for (const r of rules) {
    if (/-uses-.*-only$/.test(r.name) && !narrowed.has(r.name)) problems.push(`rule ${r.name} narrows an arrow the table does not narrow`);
  }

  // Every rule the document names exists.
  for (const m of doc.matchAll(/`([a-z]+(?:-[a-z]+)+)`/g)) {
    const name = m[1]!;
    if (/^(layer|no|server|web|report|tls|store)-/.test(name) && !byName.has(name) && !name.includes('FOLDER')) {
      problems.push(`docs/ARCHITECTURE.md names rule ${name}, which .dependency-cruiser.cjs does not have`);
    }
  }
  return problems;
}

const DOC = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
const RULES = (createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: Rule[] }).forbidden;
const FOLDERS = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

test('docs/ARCHITECTURE.md import table and .dependency-cruiser.cjs agree', () => {
  assert.deepEqual(disagreements(DOC, RULES, FOLDERS), []);
  const table = layoutTable(DOC);
  assert.ok(table.size >= 10, `only ${table.size} rows read from the layout table`);
  assert.ok([...table.values()].flat().some((a) => a?.typesOnly) && [...table.values()].flat().some((a) => (a?.onlyFiles.length ?? 0) > 0));
});

test('self-test: an arrow, a narrowing, a folder or a rule name the config does not have is reported', () => {
  const edit = (from: string, to: string) => {
    assert.ok(DOC.includes(from), `docs/ARCHITECTURE.md no longer has ${from}`);
    return DOC.replace(from, to);
  };
  const cases: [string, RegExp][] = [
    // an arrow the config forbids
    [
      edit(
        '| protocol, tls, analysis (only `responsiveness.ts`: the RPM rule) |\n',
        '| protocol, tls, store, analysis (only `responsiveness.ts`) |\n',
      ),
      /the table lets src\/client\/ import store\/, rule layer-client does not/,
    ],
    // an arrow the config allows that the table dropped
    [
      edit('| protocol, store, analysis, server (types only), tls |', '| protocol, store, analysis, server (types only) |'),
      /rule layer-web lets src\/web\/ import tls\/, the table does not/,
    ],
    // a narrowing nobody enforces
    [
      edit('| protocol, tls, store, analysis, client, server |', '| protocol, tls, store, analysis (types only), client, server |'),
      /no rule sim-uses-analysis-types-only enforces it/,
    ],
    // a narrowing the table lost
    [
      edit('client (only `meter.ts`, for upload timing)', 'client (`meter.ts` for upload timing)'),
      /rule server-uses-client-meter-only narrows an arrow the table does not narrow/,
    ],
    // a narrowing to other files than the rule's
    [
      edit('client (only `meter.ts`, for upload timing)', 'client (only `meter.ts` and `probe.ts`)'),
      /no rule server-uses-client-meter-probe-only enforces it/,
    ],
    // a rule named in the text that does not exist
    [edit('(rule `server-not-web`)', '(rule `server-never-web`)'), /names rule server-never-web/],
  ];
  for (const [doc, expected] of cases) {
    const problems = disagreements(doc, RULES, FOLDERS);
    assert.ok(
      problems.some((p) => expected.test(p)),
      `${expected}: ${JSON.stringify(problems)}`,
    );
  }
  // a folder with no row
  assert.match(disagreements(DOC, RULES, [...FOLDERS, 'metrics']).join('\n'), /src\/metrics\/ has no row in the layout table/);
});
