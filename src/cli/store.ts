import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { type CopyProgress, copyStore } from '../store/migrate.js';
import { isPostgresLocation, openStore, redact } from '../store/open.js';
import type { Store } from '../store/types.js';
import { durationArg, intArg } from './args.js';

export interface StoreIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  now: () => number;
}

/** A SQLite path from a location, or null for PostgreSQL. */
function sqlitePath(location: string): string | null {
  if (isPostgresLocation(location)) return null;
  return location.startsWith('sqlite:') ? location.slice('sqlite:'.length) : location;
}

/** Opening a missing SQLite file would create an empty store: refuse it instead. */
function mustExist(location: string, what: string): void {
  const path = sqlitePath(location);
  if (path !== null && path !== '' && !existsSync(path)) throw new UsageError(`${what} '${location}' does not exist`);
}

/** Identifies the source in the destination's progress marker, independent of the working directory. */
function sourceKey(location: string): string {
  const path = sqlitePath(location);
  return path === null ? `migrate:postgres:${redact(location)}` : `migrate:sqlite:${resolve(path)}`;
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
export function registerStore(program: Command, io: StoreIo = { stdout: process.stdout, stderr: process.stderr, now: Date.now }): void {
  const store = program
    .command('store')
    .description('store maintenance: copy a store into another (SQLite → PostgreSQL), delete old results')
    .exitOverride();

  store
    .command('migrate')
    .description('copy results and transfers from one store into another; streamed, resumable, idempotent')
    .requiredOption('--from <location>', 'source store: sqlite:PATH, a file path, or postgres://…')
    .requiredOption('--to <location>', 'destination store: postgres://…[?schema=NAME], sqlite:PATH or a file path')
    .option('--batch <n>', 'rows per destination transaction', intArg('batch', 1, 100_000), 5_000)
    .action(async (flags: { from: string; to: string; batch: number }) => {
      mustExist(flags.from, 'source store');
      const fromPath = sqlitePath(flags.from);
      const toPath = sqlitePath(flags.to);
      if (fromPath !== null && toPath !== null && resolve(fromPath) === resolve(toPath)) throw new UsageError('--from and --to are the same store');
      if (fromPath === null && toPath === null && redact(flags.from) === redact(flags.to)) throw new UsageError('--from and --to are the same store');
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

  store
    .command('prune')
    .description('delete results and transfers that started longer ago than --older-than')
    .requiredOption('--older-than <duration>', 'age, e.g. 90d', durationArg('--older-than'))
    .option('--store <location>', 'SQLite file or postgres://… URL', './netprobe.db')
    .action(async (flags: { olderThan: number; store: string }) => {
      if (flags.olderThan <= 0) throw new UsageError('--older-than must be longer than 0');
      mustExist(flags.store, 'store');
      const beforeMs = io.now() - flags.olderThan;
      const target = await openStore(flags.store);
      try {
        const pruned = await target.prune(beforeMs);
        io.stdout.write(
          `pruned ${pruned.results} results and ${pruned.transfers} transfers started before ${new Date(beforeMs).toISOString()} from ${target.location}\n`,
        );
      } finally {
        await target.close();
      }
    });
}
