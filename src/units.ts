import { UsageError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** '250ms', '10s', '5m', '1.5h', '90d' → milliseconds. A bare number is milliseconds. */
export function parseDurationMs(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${what} '${text}' is not a duration (examples: 250ms, 10s, 5m, 1h, 7d)`);
  const ms = Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new UsageError(`${what} '${text}' is too large`);
  return Math.round(ms);
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
