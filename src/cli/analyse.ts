import type { Command } from 'commander';
import { analyse } from '../analysis/analyse.js';
import { renderCsv } from '../analysis/csv.js';
import { toStableJson } from '../analysis/json.js';
import { renderSummaryTables } from '../analysis/table.js';
import { UsageError } from '../errors.js';
import { type SelectionFlags, openSelectedStore, selectionOptions } from './analysis-args.js';
import { analyseTable } from './options/analysis.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

export interface AnalyseIo {
  stdout: { write(text: string): unknown };
  /** The clock for relative --since/--until ('24h' = 24 hours before now). */
  now: () => number;
}

interface AnalyseFlags extends SelectionFlags {
  json?: boolean;
  csv?: string;
}

/** `netprobe analyse`: reads the store, prints tables, JSON or CSV. */
export function registerAnalyse(program: Command, io: AnalyseIo = { stdout: process.stdout, now: Date.now }): void {
  addOptions(
    program.command('analyse').alias('analyze').description('statistics, busiest hour, congestion episodes and trends from stored results'),
    analyseTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(analyseTable, { flags: opts }) as unknown as AnalyseFlags;
    if (flags.json && flags.csv) throw new UsageError('choose one of --json and --csv');
    const options = selectionOptions(flags, io.now());
    const store = await openSelectedStore(flags.store);
    try {
      const summary = await analyse(store, options);
      if (flags.json) io.stdout.write(toStableJson(summary));
      else if (flags.csv) io.stdout.write(renderCsv(summary, flags.csv));
      else io.stdout.write(renderSummaryTables(summary));
    } finally {
      await store.close();
    }
  });
}
