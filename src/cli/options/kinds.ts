/**
 * The value types of the option tables, as zod types over what a flag, a NETPROBE_* variable or a
 * config file can hold (a string, or a YAML/JSON number, boolean or list). Each refuses a mistake
 * with one line that says what to write instead; durations and sizes always need their unit.
 */
import { z } from 'zod';
import { formatDurationMs, formatSizeBytes, parseDurationMs, parseFraction, parseSizeBytes } from '../../units.js';

/** A zod type from a parser that throws an Error whose message is the whole explanation. */
export function fromParser<T>(parse: (raw: unknown) => T): z.ZodType<T, unknown> {
  return z.unknown().transform((raw, ctx) => {
    try {
      return parse(raw);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/**
 * Stands for where a value came from (`--since`, `NETPROBE_X`, `file.yaml: key`) in a parser's
 * message, for messages that name it mid-sentence; any other message gets the source in front.
 */
export const SOURCE = '{source}';

/** A scalar as text: YAML may hand over a number or a boolean where a string was meant. */
export function text(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  throw new Error(`expected a single value, got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
}

/** Parsers report "'90' needs a unit…"; the source (flag, variable, key) is added by the resolver. */
const bare = (message: string) => message.replace(/^[^:']*: /, '');

export interface Bounds {
  min?: number;
  max?: number;
}

/** A duration with its unit ('60s', '5m', '7d') → milliseconds. */
export function duration(bounds: Bounds = {}): z.ZodType<number, unknown> {
  return fromParser((raw) => {
    let ms: number;
    try {
      ms = parseDurationMs(text(raw), 'x');
    } catch (err) {
      throw new Error(bare((err as Error).message));
    }
    if (bounds.min !== undefined && ms < bounds.min)
      throw new Error(`'${text(raw)}' is too short: at least ${formatDurationMs(bounds.min)}`);
    if (bounds.max !== undefined && ms > bounds.max) throw new Error(`'${text(raw)}' is too long: at most ${formatDurationMs(bounds.max)}`);
    return ms;
  });
}

/** A size with its unit ('4MiB', '10MB') → bytes. */
export function size(bounds: Bounds = {}): z.ZodType<number, unknown> {
  return fromParser((raw) => {
    let bytes: number;
    try {
      bytes = parseSizeBytes(text(raw), 'x');
    } catch (err) {
      throw new Error(bare((err as Error).message));
    }
    if (bounds.min !== undefined && bytes < bounds.min)
      throw new Error(`'${text(raw)}' is too small: at least ${formatSizeBytes(bounds.min)}`);
    if (bounds.max !== undefined && bytes > bounds.max)
      throw new Error(`'${text(raw)}' is too large: at most ${formatSizeBytes(bounds.max)}`);
    return bytes;
  });
}

/** A whole number within bounds. */
export function integer(bounds: Bounds = {}): z.ZodType<number, unknown> {
  const min = bounds.min ?? 0;
  return fromParser((raw) => {
    const value = text(raw).trim();
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new Error(`'${value}' is not a whole number`);
    const n = Number(value);
    if (n < min || (bounds.max !== undefined && n > bounds.max)) {
      throw new Error(`'${value}' is out of range: ${bounds.max === undefined ? `at least ${min}` : `${min} to ${bounds.max}`}`);
    }
    return n;
  });
}

/** '20%' or 0.2. */
export const fraction: z.ZodType<number, unknown> = fromParser((raw) => {
  try {
    return parseFraction(text(raw), 'x');
  } catch (err) {
    throw new Error((err as Error).message.replace(/^x /, ''));
  }
});

/** One of the given words. */
export function choice<const T extends string>(values: readonly T[], aliases: Record<string, T> = {}): z.ZodType<T, unknown> {
  return fromParser((raw) => {
    const value = text(raw);
    const hit = (values as readonly string[]).includes(value) ? (value as T) : aliases[value];
    if (hit === undefined) throw new Error(`'${value}' is not one of ${[...values, ...Object.keys(aliases)].join(', ')}`);
    return hit;
  });
}

/** Non-empty text. */
export function string(max = 4096): z.ZodType<string, unknown> {
  return fromParser((raw) => {
    const value = text(raw);
    if (value.trim() === '') throw new Error('must not be empty');
    if (value.length > max) throw new Error(`is longer than ${max} characters`);
    return value;
  });
}

/** true/false (also yes/no, 1/0 from the environment). */
export const boolean: z.ZodType<boolean, unknown> = fromParser((raw) => {
  if (typeof raw === 'boolean') return raw;
  const value = text(raw).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new Error(`'${value}' is not true or false`);
});

/** A list: repeated flags, a comma-separated string, or a YAML/JSON list. */
export function list(item: z.ZodType<string, unknown> = string(), minItems = 1): z.ZodType<string[], unknown> {
  return fromParser((raw) => {
    const parts = (Array.isArray(raw) ? raw.flatMap((v) => text(v).split(',')) : text(raw).split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (parts.length < minItems) throw new Error('needs at least one value');
    return parts.map((part) => {
      const parsed = item.safeParse(part);
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? `'${part}' is not valid`);
      return parsed.data;
    });
  });
}
