import type { Command } from 'commander';
import { analyse } from '../analysis/analyse.js';
import { CSV_TABLES, checkCsvTable, renderCsv } from '../analysis/csv.js';
import { toStableJson } from '../analysis/json.js';
import type { Thresholds } from '../analysis/options.js';
import { renderSummaryTables } from '../analysis/table.js';
import { type TimeSpec, parseTimeSpec, resolveTimeSpec } from '../analysis/timespec.js';
import { checkTimeZone } from '../analysis/timezone.js';
import { UsageError } from '../errors.js';
import { openStore } from '../store/open.js';
import { asArg } from './args.js';
import { collectClients, collectThreshold, parseBucket, storePathMissing } from './analysis-args.js';

export interface AnalyseIo {
  stdout: { write(text: string): unknown };
  /** The clock for relative --since/--until ('24h' = 24 hours before now). */
  now: () => number;
}

interface AnalyseFlags {
  store: string;
  since?: TimeSpec;
  until?: TimeSpec;
  client?: string[];
  tz: string;
  bucket: number | 'auto';
  threshold?: Partial<Thresholds>;
  json?: boolean;
  csv?: true | string;
}

/** `netprobe analyse`: reads the store, prints tables, JSON or CSV. */
export function registerAnalyse(program: Command, io: AnalyseIo = { stdout: process.stdout, now: Date.now }): void {
  program
    .command('analyse')
    .alias('analyze')
    .description('statistics, busiest hour, congestion episodes and trends from stored results')
    .option('--store <location>', 'SQLite file of the server, or postgres://…', './netprobe.db')
    .option('--since <time>', 'results started at or after: 2025-03-30, 2025-03-30T06:00 (in --tz), 2025-03-30T04:00:00Z, or 7d (ago)', asArg((t) => parseTimeSpec(t, '--since')))
    .option('--until <time>', 'results started before (same forms as --since)', asArg((t) => parseTimeSpec(t, '--until')))
    .option('--client <name>', 'only this client; repeatable or comma-separated', collectClients)
    .option('--tz <zone>', 'IANA time zone of hours, weekdays and local dates', asArg(checkTimeZone), 'UTC')
    .option('--bucket <size>', "series bucket: auto, or a duration such as 5m, 1h, 1d", asArg(parseBucket), 'auto')
    .option('--threshold <name=value>', 'change a threshold, repeatable (names and defaults: docs/analysis.md)', collectThreshold)
    .option('--json', 'print the summary as JSON (schema netprobe.analysis/1)')
    .option('--csv [table]', `print one table as CSV: ${CSV_TABLES.join(', ')} (default clients)`, asArg(checkCsvTable))
    .action(async (flags: AnalyseFlags) => {
      if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
      const now = io.now();
      const at = (spec: TimeSpec | undefined) => (spec === undefined ? undefined : resolveTimeSpec(spec, flags.tz, now));
      if (storePathMissing(flags.store)) throw new UsageError(`store '${flags.store}' does not exist (give --store the server's SQLite file)`);
      const store = await openStore(flags.store, { readonly: true });
      try {
        const summary = await analyse(store, {
          sinceMs: at(flags.since),
          untilMs: at(flags.until),
          clients: flags.client,
          timeZone: flags.tz,
          bucketMs: flags.bucket,
          thresholds: flags.threshold,
        });
        if (flags.json) io.stdout.write(toStableJson(summary));
        else if (flags.csv) io.stdout.write(renderCsv(summary, flags.csv === true ? 'clients' : flags.csv));
        else io.stdout.write(renderSummaryTables(summary));
      } finally {
        await store.close();
      }
    });
}
