import type { Thresholds } from '../analysis/options.js';
import { type TimeSpec, resolveTimeSpec } from '../analysis/timespec.js';
import { UsageError } from '../errors.js';
import { parseStoreLocation, storeFileMissing } from '../store/location.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';

/** What `analyse` and `report` select their results with (resolved from src/cli/options/analysis.ts). */
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
  if (storeFileMissing(parseStoreLocation(location)))
    throw new UsageError(`store '${location}' does not exist (give --store the server's SQLite file)`);
  return openStore(location, { readonly: true });
}
