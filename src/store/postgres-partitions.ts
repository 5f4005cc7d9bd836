import type pg from 'pg';
import { LOCK_PARTITIONS } from './postgres-schema.js';

/**
 * Monthly partitions of `results` (UTC months of `started_at_ms`), named `results_pYYYYMM`.
 * There is no default partition: a partition is created before the first row of its month is
 * written (the current and next months at start, older months when late results or an import
 * bring them), so creating one never has to move rows out of a default partition. Creation and
 * dropping take an advisory lock, so several collectors never race on the same DDL.
 */

/** Months since year 0: year × 12 + month (0-based). */
export function monthOf(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

export function monthStartMs(month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(Math.floor(month / 12), month % 12, 1);
  return d.getTime();
}

export function partitionName(month: number): string {
  const year = String(Math.floor(month / 12)).padStart(4, '0');
  return `results_p${year}${String((month % 12) + 1).padStart(2, '0')}`;
}

function monthOfName(name: string): number | null {
  const m = /^results_p(\d{4})(\d{2})$/.exec(name);
  return m ? Number(m[1]) * 12 + Number(m[2]) - 1 : null;
}

/** Waits at most this long for the table lock a partition change needs (a long read holds it). */
const DDL_LOCK_TIMEOUT = '10s';

export class Partitions {
  private readonly known = new Set<number>();
  private stale = true;

  constructor(private readonly pool: pg.Pool) {}

  /** Reads the partitions that exist (another collector may have made some). */
  async load(db: Pick<pg.PoolClient, 'query'> = this.pool): Promise<number[]> {
    const { rows } = await db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'results'::regclass`,
    );
    this.known.clear();
    this.stale = false;
    for (const { name } of rows) {
      const month = monthOfName(name);
      if (month !== null) this.known.add(month);
    }
    return [...this.known].sort((a, b) => a - b);
  }

  /** Creates the partitions of the given months that do not exist yet. */
  async ensure(months: Iterable<number>): Promise<void> {
    const wanted = [...new Set(months)];
    if (this.stale && wanted.some((m) => !this.known.has(m))) await this.load();
    const missing = wanted.filter((m) => !this.known.has(m)).sort((a, b) => a - b);
    if (missing.length === 0) return;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITIONS]);
      for (const month of missing) {
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${partitionName(month)} PARTITION OF results FOR VALUES FROM (${monthStartMs(month)}) TO (${monthStartMs(month + 1)})`,
        );
      }
      await client.query('COMMIT');
      for (const month of missing) this.known.add(month);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Forgets what is known (after a row found no partition: another process pruned). */
  forget(): void {
    this.known.clear();
    this.stale = true;
  }

  /**
   * Deletes results and transfers started before `beforeMs` in one transaction: partitions
   * wholly before it are dropped, the month it falls in is deleted from row by row.
   */
  async prune(beforeMs: number): Promise<{ results: number; transfers: number }> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`);
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_PARTITIONS]);
      const ids = await client.query('DELETE FROM result_ids WHERE started_at_ms < $1', [beforeMs]);
      for (const month of await this.load(client)) {
        if (monthStartMs(month + 1) <= beforeMs) await client.query(`DROP TABLE ${partitionName(month)}`);
      }
      await client.query('DELETE FROM results WHERE started_at_ms < $1', [beforeMs]);
      const transfers = await client.query('DELETE FROM transfers WHERE started_at_ms < $1', [beforeMs]);
      await client.query('COMMIT');
      return { results: ids.rowCount ?? 0, transfers: transfers.rowCount ?? 0 };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      // The dropped months are gone; the next insert re-reads what exists.
      this.forget();
      client.release();
    }
  }
}
