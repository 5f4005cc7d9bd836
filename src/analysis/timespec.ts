/**
 * --since / --until values: an instant with a zone ('2025-03-30T06:00:00Z', '…+02:00'), a local
 * date or date-time in the analysis time zone ('2025-03-30', '2025-03-30T06:00'), or a duration
 * before now ('24h', '7d'). Parsing needs no zone; resolving does (and the clock, for 'ago').
 */
import { UsageError } from '../errors.js';
import { needsDurationUnit, parseDurationMs } from '../units.js';
import { localToUtc } from './timezone.js';

export type TimeSpec = { kind: 'instant'; ms: number } | { kind: 'local'; wallClockMs: number } | { kind: 'ago'; ms: number };

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

export function parseTimeSpec(text: string, what: string): TimeSpec {
  const value = text.trim();
  const local = LOCAL.exec(value);
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
    const wallClockMs = Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) + Math.round(Number(`0.${local[7] ?? 0}`) * 1000);
    const check = new Date(wallClockMs);
    if (check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d! || h! > 23 || mi! > 59 || s! > 59) {
      throw new UsageError(`${what} '${text}' is not a valid date or time`);
    }
    return { kind: 'local', wallClockMs };
  }
  if (WITH_ZONE.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T'));
    if (Number.isNaN(ms)) throw new UsageError(`${what} '${text}' is not a valid date or time`);
    return { kind: 'instant', ms };
  }
  // A bare number is neither: say which unit it needs ('7' → 7d, 7h, …).
  if (/^\d+(\.\d+)?$/.test(value) && !/^0+$/.test(value)) throw new UsageError(needsDurationUnit(value, what));
  try {
    return { kind: 'ago', ms: parseDurationMs(value, what) };
  } catch {
    throw new UsageError(
      `${what} '${text}' is neither a time (2025-03-30, 2025-03-30T06:00, 2025-03-30T06:00:00Z) nor a duration before now (24h, 7d)`,
    );
  }
}

export function resolveTimeSpec(spec: TimeSpec, zone: string, nowMs: number): number {
  switch (spec.kind) {
    case 'instant':
      return spec.ms;
    case 'local':
      return localToUtc(zone, spec.wallClockMs);
    case 'ago':
      return nowMs - spec.ms;
    default: {
      const never: never = spec;
      return never;
    }
  }
}
