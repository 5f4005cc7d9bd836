/**
 * A store location, parsed once: `postgres://…`/`postgresql://…` is PostgreSQL, `sqlite:PATH` or a
 * plain path is a SQLite file. Every caller that needs to know which (open, the CLI's "does the
 * file exist" checks, migration keys) asks this module; nothing else strips the `sqlite:` prefix.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { POSTGRES_LOCATION, redactPassword } from './postgres-location.js';

export type StoreLocation =
  | { kind: 'sqlite'; /** The database file ('' never; ':memory:' for an in-memory database). */ path: string; display: string }
  | { kind: 'postgres'; /** The URL as given (password included: only for connecting). */ url: string; display: string };

const SQLITE_PREFIX = 'sqlite:';

export function parseStoreLocation(text: string): StoreLocation {
  if (POSTGRES_LOCATION.test(text)) return { kind: 'postgres', url: text, display: redactPassword(text) };
  const path = text.startsWith(SQLITE_PREFIX) ? text.slice(SQLITE_PREFIX.length) : text;
  if (path.length === 0) throw new UsageError('empty store location (a SQLite file path, sqlite:PATH or postgres://…)');
  return { kind: 'sqlite', path, display: path };
}

/** A SQLite file that does not exist (opening it would create an empty store); PostgreSQL never is. */
export function storeFileMissing(location: StoreLocation): boolean {
  return location.kind === 'sqlite' && !existsSync(location.path);
}

/** Names the store independently of the working directory (the password removed). */
export function storeKey(location: StoreLocation): string {
  return location.kind === 'postgres' ? `postgres:${location.display}` : `sqlite:${resolve(location.path)}`;
}
