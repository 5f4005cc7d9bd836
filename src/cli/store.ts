import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type CopyProgress, copyStore } from '../store/migrate.js';
import { parseStoreLocation, storeFileMissing, storeKey } from '../store/location.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { storeMigrateTable, storePruneTable } from './options/store.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

export interface StoreIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdin: { isTTY?: boolean };
  /** Asks on the terminal; true only for an explicit yes. */
  confirm: (question: string) => Promise<boolean>;
  now: () => number;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** Asks on stderr, reads one line from stdin. */
async function confirmOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Opening a missing SQLite file would create an empty store: refuse it instead. */
function mustExist(location: string, what: string): void {
  if (storeFileMissing(parseStoreLocation(location))) throw new UsageError(`${what} '${location}' does not exist`);
}

/** Identifies the source in the destination's progress marker, independent of the working directory. */
function sourceKey(location: string): string {
  return `migrate:${storeKey(parseStoreLocation(location))}`;
}

async function withStores<T>(from: string, to: string, fn: (source: Store, destination: Store) => Promise<T>): Promise<T> {
  const source = await openStore(from, { readonly: true });
  try {
    const destination = await openStore(to, { synchronous: 'normal' });
    try {
      return await fn(source, destination);
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
}

/** `netprobe store migrate` and `netprobe store prune`. */
export function registerStore(
  program: Command,
  io: StoreIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, confirm: confirmOnTerminal, now: Date.now },
): void {
  const store = program
    .command('store')
    .description('store maintenance: copy a store into another (SQLite → PostgreSQL), delete old results')
    .exitOverride();

  addOptions(
    store.command('migrate').description('copy results and transfers from one store into another; streamed, resumable, idempotent'),
    storeMigrateTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(storeMigrateTable, { flags: opts }) as { from: string; to: string; batch: number };
    mustExist(flags.from, 'source store');
    if (storeKey(parseStoreLocation(flags.from)) === storeKey(parseStoreLocation(flags.to)))
      throw new UsageError('--from and --to are the same store');
    await withStores(flags.from, flags.to, async (source, destination) => {
      const total = await source.countResults();
      const show = (p: CopyProgress) => {
        if (!io.stderr.isTTY) return;
        const what = p.phase === 'results' ? `results ${p.resultsRead}/${total}` : `transfers ${p.transfersCopied}`;
        io.stderr.write(`\rmigrating: ${what}   `);
      };
      const s = await copyStore(source, destination, { batchSize: flags.batch, key: sourceKey(flags.from), onProgress: show });
      if (io.stderr.isTTY) io.stderr.write('\n');
      io.stdout.write(
        `${s.resumed ? 'resumed: ' : ''}${s.resultsRead} results read from ${source.location}: ${s.resultsInserted} stored, ` +
          `${s.resultsDuplicate} already present; ${s.transfersCopied} transfers copied into ${destination.location}\n`,
      );
    });
  });

  addOptions(
    store
      .command('prune')
      .description('delete results and transfers that started longer ago than --older-than (asks first; --dry-run shows what would go)'),
    storePruneTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(storePruneTable, { flags: opts }) as {
      olderThanMs: number;
      store: string;
      dryRun?: boolean;
      yes?: boolean;
    };
    mustExist(flags.store, 'store');
    if (!flags.dryRun && !flags.yes && !io.stdin.isTTY) {
      throw new UsageError('store prune deletes results: add --yes to confirm (or --dry-run to see what would go)');
    }
    const beforeMs = io.now() - flags.olderThanMs;
    const before = new Date(beforeMs).toISOString();
    const target = await openStore(flags.store, { readonly: flags.dryRun === true });
    try {
      const span = await target.resultSpan({ untilMs: beforeMs });
      const what =
        span.count === 0
          ? `no results started before ${before} in ${target.location}`
          : `${span.count} results started before ${before} in ${target.location} (oldest ${iso(span.firstMs)}, newest ${iso(span.lastMs)}) and the transfers of that time`;
      if (flags.dryRun) {
        io.stdout.write(`dry run: would delete ${what}\n`);
        return;
      }
      if (!flags.yes && !(await io.confirm(`delete ${what}? [y/N] `))) {
        io.stdout.write('nothing deleted\n');
        return;
      }
      const pruned = await target.prune(beforeMs);
      io.stdout.write(
        `pruned ${pruned.results} results and ${pruned.transfers} transfers started before ${before} from ${target.location}\n`,
      );
    } finally {
      await target.close();
    }
  });
}
