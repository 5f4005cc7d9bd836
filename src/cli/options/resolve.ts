/**
 * Resolves a command's options from its table: defaults < config file < NETPROBE_* variables <
 * flags. Every value is parsed by its option's type, and a mistake is one line naming where the
 * value came from (`--interval`, `NETPROBE_INTERVAL`, `client.yaml: interval`) and the fix.
 */
import { basename } from 'node:path';
import { UsageError } from '../../errors.js';
import { readConfigFile } from '../config.js';
import { SOURCE } from './kinds.js';
import { type CommandTable, type OptionSpec, envOf, flagOf } from './table.js';

export interface OptionSources {
  /** Commander's parsed flags (raw strings, string lists for repeatable flags, true for switches). */
  flags: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Deprecation notices, one line each (default: stderr). */
  warn?: (line: string) => void;
}

/** The value a user would write for an old …Ms / …Bytes number. */
function fromOldKey(oldKey: string, value: unknown): unknown {
  if (typeof value !== 'number') return value;
  if (oldKey.endsWith('Ms')) return `${value}ms`;
  if (oldKey.endsWith('Bytes')) return `${value}B`;
  return value;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

function suggestion(word: string, known: readonly string[]): string {
  const lower = word.toLowerCase();
  const best = known.map((k) => ({ k, d: distance(lower, k.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= Math.max(2, Math.floor(word.length / 3)) ? ` (did you mean '${best.k}'?)` : '';
}

interface Layer {
  where: (spec: OptionSpec) => string;
  values: Map<OptionSpec, unknown>;
}

function fileLayer(table: CommandTable, path: string, warn: (line: string) => void): Layer {
  const data = readConfigFile(path);
  const name = basename(path);
  const values = new Map<OptionSpec, unknown>();
  const settable = table.options.filter((s) => !s.flagOnly);
  for (const [key, value] of Object.entries(data)) {
    const spec = settable.find((s) => s.key === key);
    if (spec) {
      values.set(spec, value);
      continue;
    }
    const old = settable.find((s) => s.was === key);
    if (old) {
      const replaced = fromOldKey(key, value);
      warn(`netprobe: ${name}: '${key}' is deprecated and will be refused in the next version; write '${old.key}: ${String(replaced)}'`);
      if (!Object.hasOwn(data, old.key)) values.set(old, replaced);
      continue;
    }
    throw new UsageError(
      `${name}: unknown key '${key}'${suggestion(
        key,
        settable.map((s) => s.key),
      )}; the keys are listed in docs/cli.md`,
    );
  }
  return { where: (spec) => `${name}: ${spec.key}`, values };
}

function envLayer(table: CommandTable, env: NodeJS.ProcessEnv, warn: (line: string) => void): Layer {
  const values = new Map<OptionSpec, unknown>();
  for (const spec of table.options) {
    if (spec.flagOnly) continue;
    const raw = env[envOf(spec.key)];
    if (raw !== undefined && raw !== '') {
      values.set(spec, raw);
      continue;
    }
    const oldRaw = spec.was === undefined ? undefined : env[envOf(spec.was)];
    if (spec.was !== undefined && oldRaw !== undefined && oldRaw !== '') {
      const replaced = /^\d+$/.test(oldRaw) ? fromOldKey(spec.was, Number(oldRaw)) : oldRaw;
      warn(
        `netprobe: ${envOf(spec.was)} is deprecated and will be ignored in the next version; set ${envOf(spec.key)}=${String(replaced)}`,
      );
      values.set(spec, replaced);
    }
  }
  return { where: (spec) => envOf(spec.key), values };
}

function flagLayer(table: CommandTable, flags: Record<string, unknown>): Layer {
  const values = new Map<OptionSpec, unknown>();
  for (const spec of table.options) {
    const value = flags[spec.key];
    if (value !== undefined) values.set(spec, value);
  }
  return { where: (spec) => flagOf(spec), values };
}

/**
 * The command's settings, keyed by each option's library name (`to`, else `key`); options without
 * a value and without a default are left out. Throws a UsageError (exit 2) on the first mistake.
 */
export function resolveOptions(table: CommandTable, sources: OptionSources): Record<string, unknown> {
  // Deprecation notices are shown only when the options resolve: a mistake is reported alone, in one line.
  const notices: string[] = [];
  const warn = (line: string) => notices.push(line);
  const layers: Layer[] = [];
  const configPath = table.configurable ? sources.flags.config : undefined;
  if (typeof configPath === 'string') layers.push(fileLayer(table, configPath, warn));
  if (table.configurable) layers.push(envLayer(table, sources.env ?? process.env, warn));
  layers.push(flagLayer(table, sources.flags));

  const out: Record<string, unknown> = {};
  const missing: OptionSpec[] = [];
  for (const spec of table.options) {
    // --config is consumed here: it names a source, not a setting.
    if (table.configurable && spec.key === 'config') continue;
    const layer = layers.findLast((l) => l.values.has(spec));
    const raw = layer ? layer.values.get(spec) : spec.default;
    if (raw === undefined) {
      if (spec.required) missing.push(spec);
      continue;
    }
    const parsed = spec.type.safeParse(raw);
    if (!parsed.success) {
      const where = layer ? layer.where(spec) : `default of ${flagOf(spec)}`;
      const message = parsed.error.issues[0]?.message ?? 'invalid value';
      throw new UsageError(message.includes(SOURCE) ? message.replaceAll(SOURCE, where) : `${where}: ${message}`);
    }
    out[spec.to ?? spec.key] = parsed.data;
  }
  if (missing.length > 0) {
    const names = missing.map(flagOf).join(', ');
    const how = table.configurable
      ? ` (as flags, config-file keys ${missing.map((s) => s.key).join(', ')}, or ${missing.map((s) => envOf(s.key)).join(', ')})`
      : '';
    throw new UsageError(`missing ${names}${how}`);
  }
  for (const line of notices) (sources.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  return out;
}
