/** `netprobe analyse` and `netprobe report`: every setting, once (the window and rules they share, then each one's own). */
import { CSV_TABLES, checkCsvTable } from '../../analysis/csv.js';
import { THRESHOLD_NAMES, type Thresholds } from '../../analysis/options.js';
import { type TimeSpec, parseTimeSpec } from '../../analysis/timespec.js';
import { checkTimeZone } from '../../analysis/timezone.js';
import { parseDurationMs, parseInteger } from '../../units.js';
import { switchOption } from './common.js';
import { SOURCE, choice, fromParser, list, string, text } from './kinds.js';
import type { CommandTable, OptionSpec } from './table.js';

/** A time ('2025-03-30', '2025-03-30T06:00' in --tz, '…Z') or a duration before now ('7d'). */
const timeSpec = fromParser<TimeSpec>((raw) => parseTimeSpec(text(raw), SOURCE));

/** 'auto' or a duration ('1h'); the analysis refuses one under 1s. */
const bucket = fromParser<number | 'auto'>((raw) => (text(raw) === 'auto' ? 'auto' : parseDurationMs(text(raw), SOURCE)));

/** 'name=value' items; …Ms thresholds take durations (15m), the others numbers or percentages (50%). */
export function parseThresholds(items: readonly string[]): Partial<Thresholds> {
  const out: Partial<Thresholds> = {};
  for (const item of items) {
    const m = /^([A-Za-z]+)=(.+)$/.exec(item.trim());
    if (!m) throw new Error(`'${item}' is not name=value (example: gapFactor=4)`);
    const name = m[1] as keyof Thresholds;
    const raw = m[2]!;
    if (!THRESHOLD_NAMES.includes(name)) throw new Error(`unknown threshold '${name}' (known: ${THRESHOLD_NAMES.join(', ')})`);
    if (name.endsWith('Ms')) {
      out[name] = parseDurationMs(raw, name);
      continue;
    }
    const percent = /^(-?\d+(?:\.\d+)?)%$/.exec(raw);
    const value = percent ? Number(percent[1]) / 100 : Number(raw);
    if (!Number.isFinite(value)) throw new Error(`threshold ${name}: '${raw}' is not a number`);
    out[name] = value;
  }
  return out;
}

const thresholds = fromParser((raw) => parseThresholds(Array.isArray(raw) ? raw.map(text) : [text(raw)]));

/** What `analyse` and `report` select their results with and judge them by. */
const selection = (tzHelp: string): OptionSpec[] => [
  { key: 'store', arg: '<location>', type: string(), default: './netprobe.db', help: "the server's store: SQLite file or postgres:// URL" },
  {
    key: 'since',
    arg: '<time>',
    type: timeSpec,
    help: 'results started at or after: 2025-03-30, 2025-03-30T06:00 (in --tz), 2025-03-30T04:00:00Z, or 7d (ago)',
  },
  { key: 'until', arg: '<time>', type: timeSpec, help: 'results started before (same forms as --since)' },
  { key: 'client', arg: '<name>', type: list(), repeatable: true, help: 'only this client; repeatable or comma-separated' },
  {
    key: 'direction',
    arg: '<dir>',
    type: choice(['download', 'upload']),
    default: 'download',
    help: 'results of this direction: download or upload (analysed apart, by the same rules)',
  },
  { key: 'tz', arg: '<zone>', type: fromParser((raw) => checkTimeZone(text(raw))), default: 'UTC', help: tzHelp },
  { key: 'bucket', arg: '<size>', type: bucket, default: 'auto', help: 'series bucket: auto, or a duration such as 5m, 1h, 1d' },
  {
    key: 'threshold',
    arg: '<name=value>',
    type: thresholds,
    repeatable: true,
    help: 'change a threshold, repeatable (names and defaults: docs/analysis.md)',
  },
  {
    key: 'failures',
    arg: '<which>',
    type: choice(['network', 'all']),
    default: 'network',
    help: 'failed results that count: network (setup and server failures listed apart as findings) or all',
  },
];

export const analyseTable: CommandTable = {
  command: 'analyse',
  configurable: false,
  options: [
    ...selection('IANA time zone of hours, weekdays and local dates'),
    switchOption('json', 'print the summary as JSON (schema netprobe.analysis/1)'),
    {
      key: 'csv',
      arg: '[table]',
      type: fromParser((raw) => (raw === true ? 'clients' : checkCsvTable(text(raw)))),
      help: `print one table as CSV: ${CSV_TABLES.join(', ')} (clients when none is named)`,
    },
  ],
};

export const reportTable: CommandTable = {
  command: 'report',
  configurable: false,
  options: [
    ...selection('IANA time zone of hours, weekdays and the times shown'),
    { key: 'out', arg: '<dir>', type: string(), default: 'report', help: 'directory to write the report into' },
    {
      key: 'pngScale',
      arg: '<n>',
      type: fromParser((raw) => parseInteger(text(raw), 'PNG scale', 1, 4)),
      default: '2',
      help: 'PNG pixels per SVG pixel (1 to 4)',
    },
  ],
};
