/**
 * Numbers, times and durations as people read them in the report (the charts' labels and the
 * page). Pure. Times are shown in the analysis time zone.
 */
import { formatDuration } from '../analysis/round.js';
import { offsetAt } from '../analysis/timezone.js';

const DASH = '–';

export function describeBucket(ms: number): string {
  if (ms % 86_400_000 === 0) return ms === 86_400_000 ? 'day' : `${ms / 86_400_000} days`;
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** 'Sun 30 Mar 03:30' in `zone`: for times within a report's window, where the year is known. */
export function shortTime(iso: string, zone: string): string {
  const t = Date.parse(iso);
  const wall = new Date(t + offsetAt(zone, t));
  const month = wall.toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
  return `${WEEKDAYS[wall.getUTCDay()]} ${wall.getUTCDate()} ${month} ${wall.toISOString().slice(11, 16)}`;
}

/** '2025-03-30 03:30' in `zone` (with '+02:00' when `withOffset`). */
export function localTime(iso: string | null, zone: string, withOffset = false): string {
  if (iso === null) return DASH;
  const t = Date.parse(iso);
  const offset = offsetAt(zone, t);
  const wall = new Date(t + offset).toISOString().slice(0, 16).replace('T', ' ');
  if (!withOffset) return wall;
  const minutes = Math.abs(offset) / 60_000;
  return `${wall}${offset < 0 ? '−' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** '19:00–20:00'. */
export function hourRange(hour: number | null): string {
  if (hour === null) return DASH;
  const hh = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return `${hh(hour)}–${hh(hour + 1)}`;
}

export function percent(x: number | null, digits = 0): string {
  return x === null ? DASH : `${(x * 100).toFixed(digits)} %`;
}

/** 3 significant digits, at most 1 decimal above 10: 412 → '412', 12.34 → '12.3', 1.234 → '1.23'. */
export function num(x: number | null): string {
  if (x === null) return DASH;
  const a = Math.abs(x);
  return a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function ms(x: number | null): string {
  if (x === null) return DASH;
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${num(x)} ms`;
}

export function duration(x: number | null): string {
  return x === null ? DASH : formatDuration(x);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export { formatBytes as bytes } from '../units.js';

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${count(n)} ${n === 1 ? word : many}`;
}
