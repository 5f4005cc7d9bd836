/**
 * Rounding of every number the summary publishes, so JSON output is stable across runs and stores:
 * rates and durations to 0.001 (Mbit/s, ms), shares, ratios and slopes to 0.0001, p-values to 1e-6.
 */

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return r === 0 ? 0 : r;
}

export const r3 = (x: number): number => round(x, 3);
export const r4 = (x: number): number => round(x, 4);
export const r6 = (x: number): number => round(x, 6);

export const r3n = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : r3(x));
export const r4n = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : r4(x));

export const iso = (t: number): string => new Date(t).toISOString();
export const ison = (t: number | null): string | null => (t === null ? null : iso(t));

/** a / b, or null when b is 0. */
export const ratio = (a: number, b: number): number | null => (b === 0 ? null : a / b);

/** 90_061_000 → '1d 1h', 3_725_000 → '1h 2m', 45_000 → '45s' (two largest units). */
export function formatDuration(ms: number): string {
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms);
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 || parts.length > 0) parts.push(`${n}${name}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  const text = parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
  return text || `${Math.round(ms)}ms`;
}
