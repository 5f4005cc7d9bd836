import { type StoreLocation, parseStoreLocation } from './location.js';
import { redactPassword } from './postgres-location.js';
import type { SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreOptions extends SqliteStoreOptions {
  /** PostgreSQL: connections in the pool (default 8). */
  poolSize?: number;
}

/**
 * Opens a store from a location (location.ts): `postgres://…`/`postgresql://…` (scale-out;
 * `?schema=NAME` puts the tables in that schema), `sqlite:PATH`, or a plain file path (SQLite, the
 * embedded default). `readonly` applies to both; the SQLite durability options only to SQLite.
 * The implementation is imported when opened: a process loads one driver (pg costs ~15 MiB of RSS,
 * better-sqlite3 ~6 MiB), and a server worker, which has no store, loads neither.
 */
export async function openStore(location: string | StoreLocation, options: StoreOptions = {}): Promise<Store> {
  const where = typeof location === 'string' ? parseStoreLocation(location) : location;
  if (where.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres.js');
    return PostgresStore.open(where.url, { readonly: options.readonly, poolSize: options.poolSize });
  }
  const { SqliteStore } = await import('./sqlite.js');
  return new SqliteStore(where.path, options);
}

/** A store location fit for logs: passwords removed. */
export function redact(location: string): string {
  return redactPassword(location);
}
