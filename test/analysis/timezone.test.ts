import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTimeSpec, resolveTimeSpec } from '../../src/analysis/timespec.js';
import { localTime } from '../../src/analysis/table.js';
import { LocalClock, checkTimeZone, localToUtc, offsetAt, offsetSpans } from '../../src/analysis/timezone.js';

const H = 3_600_000;
// Europe/Berlin 2025: CET → CEST at 2025-03-30 01:00 UTC (02:00 local skipped);
// CEST → CET at 2025-10-26 01:00 UTC (02:00–03:00 local happens twice).
const SPRING = Date.UTC(2025, 2, 30, 1);
const AUTUMN = Date.UTC(2025, 9, 26, 1);

describe('time zones', () => {
  test('names: canonical, or a usage error', () => {
    assert.equal(checkTimeZone('utc'), 'UTC');
    assert.equal(checkTimeZone('Europe/Berlin'), 'Europe/Berlin');
    assert.throws(() => checkTimeZone('Mars/Olympus_Mons'), { code: 'NETPROBE_USAGE', message: /unknown time zone 'Mars\/Olympus_Mons'/ });
    assert.throws(() => checkTimeZone(''), { code: 'NETPROBE_USAGE' });
  });

  test('offset spans locate both 2025 Berlin transitions to the millisecond', () => {
    const spans = offsetSpans('Europe/Berlin', Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
    assert.deepEqual(spans, [
      { fromMs: Date.UTC(2025, 0, 1), offsetMs: H },
      { fromMs: SPRING, offsetMs: 2 * H },
      { fromMs: AUTUMN, offsetMs: H },
    ]);
    assert.deepEqual(offsetSpans('UTC', 0, Date.UTC(2030, 0, 1)), [{ fromMs: 0, offsetMs: 0 }]);
  });

  test('spring forward: local hour 2 does not exist', () => {
    const clock = new LocalClock(offsetSpans('Europe/Berlin', SPRING - 3 * H, SPRING + 3 * H));
    const hours = [-1.5, -0.5, 0.5, 1.5].map((h) => clock.hour(SPRING + h * H));
    assert.deepEqual(hours, [0, 1, 3, 4]);
    assert.equal(clock.hour(SPRING - 1), 1);
    assert.equal(clock.hour(SPRING), 3);
    assert.equal(clock.weekday(SPRING), 7); // Sunday
  });

  test('fall back: local hour 2 happens twice', () => {
    const clock = new LocalClock(offsetSpans('Europe/Berlin', AUTUMN - 3 * H, AUTUMN + 3 * H));
    const hours = [-1.5, -0.5, 0.5, 1.5].map((h) => clock.hour(AUTUMN + h * H));
    assert.deepEqual(hours, [1, 2, 2, 3]);
  });

  test('half-hour and negative offsets', () => {
    const kolkata = new LocalClock(offsetSpans('Asia/Kolkata', 0, Date.UTC(2025, 0, 2)));
    assert.equal(kolkata.hour(Date.UTC(2025, 0, 1, 0, 0)), 5);
    assert.equal(kolkata.hour(Date.UTC(2025, 0, 1, 0, 29)), 5);
    assert.equal(kolkata.hour(Date.UTC(2025, 0, 1, 0, 31)), 6);
    assert.equal(offsetAt('America/New_York', Date.UTC(2025, 0, 1)), -5 * H);
    const ny = new LocalClock(offsetSpans('America/New_York', Date.UTC(2025, 0, 1), Date.UTC(2025, 0, 2)));
    assert.equal(ny.hour(Date.UTC(2025, 0, 1, 3)), 22);
    assert.equal(ny.weekday(Date.UTC(2025, 0, 1, 3)), 2); // still Tuesday 31 Dec in New York
  });

  test('local wall-clock times to UTC, across the changes', () => {
    assert.equal(localToUtc('Europe/Berlin', Date.UTC(2025, 0, 15, 12)), Date.UTC(2025, 0, 15, 11));
    assert.equal(localToUtc('Europe/Berlin', Date.UTC(2025, 6, 15, 12)), Date.UTC(2025, 6, 15, 10));
    // 02:30 on the spring day does not exist: taken with the offset before the change (= 03:30 CEST).
    assert.equal(localToUtc('Europe/Berlin', Date.UTC(2025, 2, 30, 2, 30)), Date.UTC(2025, 2, 30, 1, 30));
    // 02:30 on the autumn day happens twice: the first one (CEST).
    assert.equal(localToUtc('Europe/Berlin', Date.UTC(2025, 9, 26, 2, 30)), Date.UTC(2025, 9, 26, 0, 30));
  });
});

describe('--since / --until values', () => {
  const now = Date.UTC(2025, 5, 1, 12);

  test('dates and times without a zone are local to --tz', () => {
    assert.equal(resolveTimeSpec(parseTimeSpec('2025-03-30', '--since'), 'Europe/Berlin', now), Date.UTC(2025, 2, 29, 23));
    assert.equal(resolveTimeSpec(parseTimeSpec('2025-03-30T06:00', '--since'), 'Europe/Berlin', now), Date.UTC(2025, 2, 30, 4));
    assert.equal(resolveTimeSpec(parseTimeSpec('2025-03-30 06:00:00.250', '--since'), 'UTC', now), Date.UTC(2025, 2, 30, 6, 0, 0, 250));
  });

  test('instants with a zone, and durations before now', () => {
    assert.equal(resolveTimeSpec(parseTimeSpec('2025-03-30T06:00:00Z', '--since'), 'Europe/Berlin', now), Date.UTC(2025, 2, 30, 6));
    assert.equal(resolveTimeSpec(parseTimeSpec('2025-03-30T06:00:00+02:00', '--since'), 'UTC', now), Date.UTC(2025, 2, 30, 4));
    assert.equal(resolveTimeSpec(parseTimeSpec('7d', '--since'), 'UTC', now), now - 7 * 24 * H);
    assert.equal(resolveTimeSpec(parseTimeSpec('90m', '--since'), 'UTC', now), now - 1.5 * H);
  });

  test('anything else is a usage error naming the option', () => {
    for (const bad of ['yesterday', '2025-02-30', '2025-13-01', '2025-01-01T25:00', '']) {
      assert.throws(() => parseTimeSpec(bad, '--until'), { code: 'NETPROBE_USAGE', message: /--until/ }, bad);
    }
  });

  test('extreme stored dates: year 1 and 9999 get a real offset and a readable time, and spans stay cheap', () => {
    // Before: Date.UTC read year 1 as 1901, an offset of +16655040:00.
    assert.equal(localTime('0001-01-01T00:00:00Z', 'UTC'), '0001-01-01 00:00:00+00:00');
    // Offsets before 1900 are taken at 1900 (Berlin: CET since 1893).
    assert.equal(localTime('0001-01-01T00:00:00Z', 'Europe/Berlin'), '0001-01-01 01:00:00+01:00');
    assert.equal(localTime('9999-12-31T12:00:00Z', 'Asia/Kolkata'), '9999-12-31 17:30:00+05:30');
    // Offsets with seconds keep them (Monrovia until 1972: -00:44:30).
    assert.equal(localTime('1960-01-15T00:00:00Z', 'Africa/Monrovia'), '1960-01-14 23:15:30-00:44:30');
    assert.equal(offsetAt('America/New_York', Date.parse('0001-06-01T00:00:00Z')), offsetAt('America/New_York', Date.UTC(1900, 0, 1)));
    // One row from year 1 among 2026 data: spans are sampled from 2019 on, not for 2,025 years.
    const spans = offsetSpans('Europe/Berlin', Date.parse('0001-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
    assert.equal(spans[0]!.fromMs, Date.parse('0001-01-01T00:00:00Z'));
    assert.equal(spans.length, 1 + 2 * 7, 'two transitions a year, 2019-2025');
  });
});
