import type { Command } from 'commander';
import { analyse } from '../analysis/analyse.js';
import { CSV_TABLES, checkCsvTable, renderCsv } from '../analysis/csv.js';
import { toStableJson } from '../analysis/json.js';
import { renderSummaryTables } from '../analysis/table.js';
import { UsageError } from '../errors.js';
import { asArg } from './args.js';
import { type SelectionFlags, addSelectionOptions, openSelectedStore, selectionOptions } from './analysis-args.js';

export interface AnalyseIo {
  stdout: { write(text: string): unknown };
  /** The clock for relative --since/--until ('24h' = 24 hours before now). */
  now: () => number;
}

interface AnalyseFlags extends SelectionFlags {
  json?: boolean;
  csv?: true | string;
}

/** `netprobe analyse`: reads the store, prints tables, JSON or CSV. */
export function registerAnalyse(program: Command, io: AnalyseIo = { stdout: process.stdout, now: Date.now }): void {
  addSelectionOptions(
    program
      .command('analyse')
      .alias('analyze')
      .description('statistics, busiest hour, congestion episodes and trends from stored results'),
    'IANA time zone of hours, weekdays and local dates',
  )
    .option('--json', 'print the summary as JSON (schema netprobe.analysis/1)')
    .option('--csv [table]', `print one table as CSV: ${CSV_TABLES.join(', ')} (default clients)`, asArg(checkCsvTable))
    .action(async (flags: AnalyseFlags) => {
      if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
      const options = selectionOptions(flags, io.now());
      const store = await openSelectedStore(flags.store);
      try {
        const summary = await analyse(store, options);
        if (flags.json) io.stdout.write(toStableJson(summary));
        else if (flags.csv) io.stdout.write(renderCsv(summary, flags.csv === true ? 'clients' : flags.csv));
        else io.stdout.write(renderSummaryTables(summary));
      } finally {
        await store.close();
      }
    });
}
