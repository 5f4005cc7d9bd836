import { UsageError } from '../errors.js';
import { POSTGRES_LOCATION, redactPassword } from './postgres-location.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

export interface StoreOptions extends SqliteStoreOptions {
  /** PostgreSQL: connections in the pool (default 8). */
  poolSize?: number;
}

/**
 * Opens a store from a location: `postgres://…`/`postgresql://…` (scale-out; `?schema=NAME` puts
 * the tables in that schema), `sqlite:PATH`, or a plain file path (SQLite, the embedded default).
 * `readonly` applies to both; the SQLite durability options only to SQLite.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  if (isPostgresLocation(location)) {
    return PostgresStore.open(location, { readonly: options.readonly, poolSize: options.poolSize });
  }
  const path = location.startsWith('sqlite:') ? location.slice('sqlite:'.length) : location;
  if (path.length === 0) throw new UsageError('empty store location');
  return new SqliteStore(path, options);
}

export const isPostgresLocation = (location: string): boolean => POSTGRES_LOCATION.test(location);

/** A store location fit for logs: passwords removed. */
export function redact(location: string): string {
  return redactPassword(location);
}
