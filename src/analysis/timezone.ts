/**
 * Local time in an IANA time zone, from the runtime's ICU data (Intl.DateTimeFormat). Offsets are
 * found once per analysis window as spans, so mapping a timestamp to a local hour is a lookup, not
 * an Intl call per result; the same spans feed the store's SQL, so both sides agree.
 */
import { UsageError } from '../errors.js';
import type { UtcOffsetSpan } from '../store/analysis-types.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Offsets are sampled this far apart; a zone never changes offset twice within it. */
const SAMPLE_MS = 6 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's canonical name ('utc' → 'UTC'); a UsageError for names the runtime does not know. */
export function checkTimeZone(zone: string): string {
  try {
    return formatter(zone).resolvedOptions().timeZone;
  } catch (err) {
    throw new UsageError(`unknown time zone '${zone}' (use an IANA name such as UTC, Europe/Berlin or America/New_York)`, {
      cause: err,
    });
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/**
 * Offsets are looked up inside these instants; outside them the offset at the nearer end applies.
 * A stored result dated year 1 (or 275760) then gets a real offset, not one computed from an era
 * the formatter prints without its sign.
 */
const OFFSET_FLOOR_MS = Date.UTC(1900, 0, 1);
const OFFSET_CEILING_MS = Date.UTC(2200, 0, 1);
/**
 * Spans are sampled from here on; earlier results share the offset at this instant. netprobe
 * refuses results before 2020, so only implausible rows stored by older versions fall before it,
 * and they cannot make an analysis sample centuries of offsets every six hours.
 */
const SPANS_FLOOR_MS = Date.UTC(2019, 0, 1);

/** Local time minus UTC at `t`, in ms (whole seconds, as the zone data are). */
export function offsetAt(zone: string, t: number): number {
  const seconds = Math.floor(Math.min(Math.max(t, OFFSET_FLOOR_MS), OFFSET_CEILING_MS) / 1000) * 1000;
  const fields: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(seconds)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  // Not Date.UTC: it maps years 0-99 to 1900-1999.
  const local = new Date(0);
  local.setUTCFullYear(fields.year!, fields.month! - 1, fields.day!);
  local.setUTCHours(fields.hour!, fields.minute!, fields.second!, 0);
  return local.getTime() - seconds;
}

/** The zone's offset spans covering [fromMs, toMs]; transitions located to the millisecond. */
export function offsetSpans(zone: string, fromMs: number, toMs: number): UtcOffsetSpan[] {
  const sampleFromMs = Math.max(fromMs, Math.min(SPANS_FLOOR_MS, toMs));
  const sampleToMs = Math.min(toMs, Math.max(OFFSET_CEILING_MS, sampleFromMs));
  let previous = offsetAt(zone, sampleFromMs);
  const spans: UtcOffsetSpan[] = [{ fromMs, offsetMs: previous }];
  for (let lo = sampleFromMs; lo < sampleToMs;) {
    const hi = Math.min(lo + SAMPLE_MS, sampleToMs);
    const offset = offsetAt(zone, hi);
    if (offset !== previous) {
      let before = lo;
      let after = hi;
      while (after - before > 1) {
        const mid = Math.floor((before + after) / 2);
        if (offsetAt(zone, mid) === previous) before = mid;
        else after = mid;
      }
      spans.push({ fromMs: after, offsetMs: offset });
      previous = offset;
    }
    lo = hi;
  }
  return spans;
}

/** Maps timestamps to local hour and ISO weekday with precomputed offset spans. */
export class LocalClock {
  constructor(private readonly spans: readonly UtcOffsetSpan[]) {}

  offset(t: number): number {
    let lo = 0;
    let hi = this.spans.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.spans[mid]!.fromMs <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.spans[lo]?.offsetMs ?? 0;
  }

  /** Local hour 0..23. */
  hour(t: number): number {
    return mod(Math.floor((t + this.offset(t)) / HOUR_MS), 24);
  }

  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday(t: number): number {
    return mod(Math.floor((t + this.offset(t)) / DAY_MS) + 3, 7) + 1;
  }
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/**
 * The UTC instant of a local wall-clock time in `zone`. A time skipped by a spring-forward change
 * resolves with the offset before the change (02:30 → 03:30 summer time); a repeated autumn time
 * resolves to its first occurrence.
 */
export function localToUtc(zone: string, wallClockAsUtcMs: number): number {
  const guess = wallClockAsUtcMs - offsetAt(zone, wallClockAsUtcMs);
  const first = wallClockAsUtcMs - offsetAt(zone, guess - DAY_MS / 4);
  const second = wallClockAsUtcMs - offsetAt(zone, guess + DAY_MS / 4);
  const candidates = [first, second].filter((t) => t + offsetAt(zone, t) === wallClockAsUtcMs).sort((a, b) => a - b);
  return candidates[0] ?? wallClockAsUtcMs - offsetAt(zone, guess - DAY_MS / 4);
}
