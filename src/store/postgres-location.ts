import { UsageError } from '../errors.js';

/** `postgres://…` or `postgresql://…`: the store locations that mean PostgreSQL. */
export const POSTGRES_LOCATION = /^postgres(ql)?:\/\//i;

/** A schema name netprobe accepts: a lower-case SQL identifier that needs no quoting. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresLocation {
  /** What node-postgres connects with: the location without `schema` and `options`. */
  connectionString: string;
  /** The URL's `options` (server settings such as `-c statement_timeout=5s`), '' when none. */
  options: string;
  /** Schema holding netprobe's tables (`?schema=`), or null for the server's default search_path. */
  schema: string | null;
  /** The location fit for logs: the password removed. */
  display: string;
}

/**
 * Parses `postgres://user[:password]@host[:port]/database[?schema=NAME&…]`. `schema` is netprobe's
 * parameter (the tables live there and it is created when missing); every other parameter
 * (`sslmode`, `options`, `application_name`, …) goes to node-postgres.
 */
export function parsePostgresLocation(location: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(location);
  } catch (err) {
    throw new UsageError(`store location '${redactPassword(location)}' is not a valid postgres:// URL`, { cause: err });
  }
  if (!POSTGRES_LOCATION.test(location)) throw new UsageError(`store location '${redactPassword(location)}' is not a postgres:// URL`);
  const schema = url.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new UsageError(
      `schema '${schema}' in the store location: use lower-case letters, digits and _ (at most 63, not starting with a digit)`,
    );
  }
  // node-postgres lets the URL's `options` override the pool's: netprobe merges its own into them.
  const options = url.searchParams.get('options') ?? '';
  url.searchParams.delete('schema');
  url.searchParams.delete('options');
  return { connectionString: url.toString(), options, schema, display: redactPassword(location) };
}

/** The location with any password replaced by `***`. */
export function redactPassword(location: string): string {
  return location.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@').replace(/([?&]password=)[^&]*/i, '$1***');
}
