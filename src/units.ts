import { UsageError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The one-line fix for a number given without its unit. */
export function needsDurationUnit(text: string, what = 'duration'): string {
  const n = text.trim();
  return `${what}: '${n}' needs a unit: ${n}d, ${n}h, ${n}m, ${n}s or ${n}ms`;
}

/**
 * '250ms', '10s', '5m', '1.5h', '90d' → milliseconds. A bare number is refused (it was read as
 * milliseconds once, and `prune --older-than 90` deleted everything): only '0' needs no unit.
 */
export function parseDurationMs(text: string, what = 'duration'): number {
  const trimmed = text.trim();
  if (/^0+(\.0+)?$/.test(trimmed)) return 0;
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) throw new UsageError(needsDurationUnit(trimmed, what));
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(trimmed);
  if (!m) throw new UsageError(`${what}: '${text}' is not a duration (examples: 250ms, 10s, 5m, 1h, 7d)`);
  const ms = Number(m[1]) * DURATION_UNITS[m[2]!]!;
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new UsageError(`${what}: '${text}' is too large`);
  return Math.round(ms);
}

/** Milliseconds → the shortest exact duration text: 180000 → '3m', 1500 → '1500ms', 0 → '0s'. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit]!;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
};

/** '4MiB', '512KiB', '10MB', '1GB', '100B' → bytes. A bare number is refused with the fix. */
export function parseSizeBytes(text: string, what = 'size'): number {
  const trimmed = text.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    throw new UsageError(
      `${what}: '${trimmed}' needs a unit: ${trimmed}B, ${trimmed}KiB, ${trimmed}MiB, ${trimmed}GiB, ${trimmed}KB, ${trimmed}MB or ${trimmed}GB`,
    );
  }
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB|kB|KB|MB|GB|TB)$/.exec(trimmed);
  if (!m) throw new UsageError(`${what}: '${text}' is not a size (examples: 512KiB, 4MiB, 10MB, 1GB)`);
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[m[2]!]!);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${what}: '${text}' is too large`);
  return bytes;
}

/** Bytes → the shortest exact binary size text: 4194304 → '4MiB', 1000 → '1000B'. */
export function formatSizeBytes(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    const size = SIZE_UNITS[unit]!;
    if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

/** '20%' or '0.2' → 0.2, within [0, 1]. */
export function parseFraction(text: string, what = 'fraction'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(%)?$/.exec(text.trim());
  const value = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(value >= 0 && value <= 1)) throw new UsageError(`${what} '${text}' must be between 0 and 1 (or 0% and 100%)`);
  return value;
}

export function parseInteger(text: string, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${what} '${text}' must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** 'host:port', '[::1]:7443' → parts. */
export function parseHostPort(text: string, defaultPort: number): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  const m = v6 ?? plain;
  if (!m) throw new UsageError(`'${text}' is not host:port (examples: 127.0.0.1:7443, [::1]:7443, probe.example.net)`);
  const port = m[2] === undefined ? defaultPort : parseInteger(m[2], 'port', 1, 65535);
  return { host: m[1]!, port };
}

/** A byte count in decimal units, one decimal: 1234567 → "1.2 MB". */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
