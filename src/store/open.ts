import { UsageError } from '../errors.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { Store } from './types.js';

/**
 * Opens a store from a location: `postgres://…`/`postgresql://…` (scale-out), `sqlite:PATH`, or a
 * plain file path (SQLite, the embedded default).
 */
export async function openStore(location: string, options: SqliteStoreOptions = {}): Promise<Store> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    throw new UsageError(`PostgreSQL stores are not supported yet (${redact(location)}); use a SQLite file path`);
  }
  const path = location.startsWith('sqlite:') ? location.slice('sqlite:'.length) : location;
  if (path.length === 0) throw new UsageError('empty store location');
  return new SqliteStore(path, options);
}

/** A store location fit for logs: passwords removed. */
export function redact(location: string): string {
  return location.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
