import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** The PostgreSQL the tests use: NETPROBE_TEST_POSTGRES, default the machine's local server. */
export const TEST_POSTGRES = process.env.NETPROBE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | null> | undefined;

/** null when the server answers, else why not. Asked once per process. */
export function postgresUnavailable(): Promise<string | null> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return null;
    } catch (err) {
      return `PostgreSQL at ${TEST_POSTGRES} is not reachable (${(err as Error).message || (err as { code?: string }).code}); set NETPROBE_TEST_POSTGRES`;
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/**
 * True when the test may use PostgreSQL. Otherwise the test is skipped with the reason printed,
 * or fails under CI=true (CI starts the server: its absence is a broken machine, not a choice).
 */
export async function needPostgres(t: TestContext): Promise<boolean> {
  const reason = await postgresUnavailable();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(reason);
  process.stderr.write(`# skipped: ${reason}\n`);
  t.skip(reason);
  return false;
}

/** Runs one statement on the test server (administration: dropping schemas, inspecting). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A store location in a schema of its own, dropped after the test. */
export function schemaLocation(t: Pick<TestContext, 'after'>, prefix = 'np_test'): { location: string; schema: string } {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES);
  url.searchParams.set('schema', schema);
  t.after(() => adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`));
  return { location: url.toString(), schema };
}
