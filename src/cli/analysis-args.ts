import { type Command, InvalidArgumentError } from 'commander';
import { THRESHOLD_NAMES, type Thresholds } from '../analysis/options.js';
import { type TimeSpec, parseTimeSpec, resolveTimeSpec } from '../analysis/timespec.js';
import { checkTimeZone } from '../analysis/timezone.js';
import { UsageError } from '../errors.js';
import { parseStoreLocation, storeFileMissing } from '../store/location.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { parseDurationMs } from '../units.js';
import { asArg } from './args.js';

/** Option parsers shared by `analyse` and `report`, which take the same analysis options. */

export function collectClients(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((c) => c.trim()).filter((c) => c !== '')];
}

/** 'name=value'; …Ms thresholds take durations (15m), the others numbers or percentages (50%). */
export function collectThreshold(text: string, previous: Partial<Thresholds> = {}): Partial<Thresholds> {
  const m = /^([A-Za-z]+)=(.+)$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`'${text}' is not name=value (example: gapFactor=4)`);
  const name = m[1] as keyof Thresholds;
  const raw = m[2]!;
  if (!THRESHOLD_NAMES.includes(name)) throw new InvalidArgumentError(`unknown threshold '${name}' (known: ${THRESHOLD_NAMES.join(', ')})`);
  let value: number;
  if (name.endsWith('Ms')) {
    value = asArg((t) => parseDurationMs(t, name))(raw);
  } else {
    const percent = /^(-?\d+(?:\.\d+)?)%$/.exec(raw);
    value = percent ? Number(percent[1]) / 100 : Number(raw);
    if (!Number.isFinite(value)) throw new InvalidArgumentError(`threshold ${name}: '${raw}' is not a number`);
  }
  return { ...previous, [name]: value };
}

export function parseBucket(text: string): number | 'auto' {
  return text === 'auto' ? 'auto' : parseDurationMs(text, 'bucket');
}

export function parseFailures(text: string): 'network' | 'all' {
  if (text === 'network' || text === 'all') return text;
  throw new UsageError(`--failures: '${text}' is not one of network, all`);
}

/** What `analyse` and `report` select their results with. */
export interface SelectionFlags {
  store: string;
  since?: TimeSpec;
  until?: TimeSpec;
  client?: string[];
  tz: string;
  bucket: number | 'auto';
  threshold?: Partial<Thresholds>;
  failures: 'network' | 'all';
  direction: 'download' | 'upload';
}

function parseDirection(value: string): 'download' | 'upload' {
  if (value === 'download' || value === 'upload') return value;
  throw new UsageError(`--direction is download or upload, not '${value}'`);
}

/** Adds the selection options to `command`; `tzHelp` says what the time zone applies to there. */
export function addSelectionOptions(command: Command, tzHelp: string): Command {
  return command
    .option('--store <location>', "the server's store: SQLite file or postgres:// URL", './netprobe.db')
    .option('--since <time>', 'results started at or after: 2025-03-30, 2025-03-30T06:00 (in --tz), 2025-03-30T04:00:00Z, or 7d (ago)', asArg((t) => parseTimeSpec(t, '--since')))
    .option('--until <time>', 'results started before (same forms as --since)', asArg((t) => parseTimeSpec(t, '--until')))
    .option('--client <name>', 'only this client; repeatable or comma-separated', collectClients)
    .option('--direction <dir>', 'results of this direction: download or upload (analysed apart, by the same rules)', asArg(parseDirection), 'download')
    .option('--tz <zone>', tzHelp, asArg(checkTimeZone), 'UTC')
    .option('--bucket <size>', 'series bucket: auto, or a duration such as 5m, 1h, 1d', asArg(parseBucket), 'auto')
    .option('--threshold <name=value>', 'change a threshold, repeatable (names and defaults: docs/analysis.md)', collectThreshold)
    .option(
      '--failures <which>',
      'failed results that count: network (setup and server failures listed apart as findings) or all',
      asArg(parseFailures),
      'network',
    );
}

/** The analysis options the flags select, relative times resolved against `now`. */
export function selectionOptions(flags: SelectionFlags, now: number) {
  const at = (spec: TimeSpec | undefined) => (spec === undefined ? undefined : resolveTimeSpec(spec, flags.tz, now));
  return {
    sinceMs: at(flags.since),
    untilMs: at(flags.until),
    clients: flags.client,
    direction: flags.direction,
    timeZone: flags.tz,
    bucketMs: flags.bucket,
    thresholds: flags.threshold,
    failures: flags.failures,
  };
}

/** Opens the store read-only; a SQLite file that does not exist is a usage error, not an empty store. */
export async function openSelectedStore(location: string): Promise<Store> {
  if (storeFileMissing(parseStoreLocation(location))) throw new UsageError(`store '${location}' does not exist (give --store the server's SQLite file)`);
  return openStore(location, { readonly: true });
}
