import { type StoreLocation, parseStoreLocation } from './location.js';
import { redactPassword } from './postgres-location.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreOptions extends SqliteStoreOptions {
  /** PostgreSQL: connections in the pool (default 8). */
  poolSize?: number;
}

/**
 * Opens a store from a location (location.ts): `postgres://…`/`postgresql://…` (scale-out;
 * `?schema=NAME` puts the tables in that schema), `sqlite:PATH`, or a plain file path (SQLite, the
 * embedded default). `readonly` applies to both; the SQLite durability options only to SQLite.
 */
export async function openStore(location: string | StoreLocation, options: StoreOptions = {}): Promise<Store> {
  const where = typeof location === 'string' ? parseStoreLocation(location) : location;
  if (where.kind === 'postgres') return PostgresStore.open(where.url, { readonly: options.readonly, poolSize: options.poolSize });
  return new SqliteStore(where.path, options);
}

/** A store location fit for logs: passwords removed. */
export function redact(location: string): string {
  return redactPassword(location);
}
