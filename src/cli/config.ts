import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/** camelCase key → NETPROBE_SNAKE_CASE environment variable. */
export function envName(key: string): string {
  return `NETPROBE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** Reads a JSON or YAML config file into a plain object. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message}`, { cause: err });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold an object`);
  return data as Record<string, unknown>;
}

/** Values from NETPROBE_* variables for the given keys: numbers and booleans parsed, lists comma-separated. */
export function readEnv(keys: readonly string[], lists: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const raw = env[envName(key)];
    if (raw === undefined || raw === '') continue;
    if (lists.includes(key)) out[key] = raw.split(',').map((s) => s.trim()).filter(Boolean);
    else if (/^-?\d+(\.\d+)?$/.test(raw)) out[key] = Number(raw);
    else if (raw === 'true' || raw === 'false') out[key] = raw === 'true';
    else out[key] = raw;
  }
  return out;
}

/**
 * Layers configuration: defaults (in the schema) < config file < environment < flags, then
 * validates the whole with the schema; errors name the offending keys.
 */
export function resolveConfig<S extends z.ZodType>(
  schema: S,
  layers: {
    file?: string | undefined;
    env: Record<string, unknown>;
    flags: Record<string, unknown>;
    /** The command's own defaults, below the file (where they differ from the schema's). */
    defaults?: Record<string, unknown>;
  },
): z.infer<S> {
  const fromFile = layers.file ? readConfigFile(layers.file) : {};
  const flags = Object.fromEntries(Object.entries(layers.flags).filter(([, v]) => v !== undefined));
  const merged = { ...layers.defaults, ...fromFile, ...layers.env, ...flags };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration${layers.file ? ` (file ${layers.file})` : ''}:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
