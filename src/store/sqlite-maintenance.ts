import type Database from 'better-sqlite3';
import type { WhereSql } from './sqlite-analysis.js';
import type { PruneOutcome, TransferRecord } from './types.js';

/** Maintenance statements of the SQLite store (`netprobe store`): transfers read back, prune, import progress. */

const PAGE_ROWS = 5_000;

interface TransferRow {
  seq: number;
  client: string;
  file: string;
  mode: string;
  bytes: number;
  started_at_ms: number;
  duration_ms: number;
  concurrent_at_start: number;
  outcome: string;
}

/** Transfers by (started_at_ms, seq), keyset-paged. */
export function* iterateTransfers(db: Database.Database, { where, params }: WhereSql): Generator<TransferRecord> {
  const keyset = where ? `${where} AND (started_at_ms, seq) > (?, ?)` : 'WHERE (started_at_ms, seq) > (?, ?)';
  const page = db.prepare(`SELECT * FROM transfers ${keyset} ORDER BY started_at_ms, seq LIMIT ${PAGE_ROWS}`);
  let lastStarted = Number.MIN_SAFE_INTEGER;
  let lastSeq = 0;
  for (;;) {
    const rows = page.all(...params, lastStarted, lastSeq) as TransferRow[];
    for (const r of rows) {
      yield {
        client: r.client,
        file: r.file,
        mode: r.mode === 'duration' ? 'duration' : 'file',
        bytes: r.bytes,
        startedAtMs: r.started_at_ms,
        durationMs: r.duration_ms,
        concurrentAtStart: r.concurrent_at_start,
        outcome: r.outcome,
      };
    }
    if (rows.length < PAGE_ROWS) return;
    lastStarted = rows[rows.length - 1]!.started_at_ms;
    lastSeq = rows[rows.length - 1]!.seq;
  }
}

export function prune(db: Database.Database, beforeMs: number): PruneOutcome {
  return db.transaction(() => ({
    results: db.prepare('DELETE FROM results WHERE started_at_ms < ?').run(beforeMs).changes,
    transfers: db.prepare('DELETE FROM transfers WHERE started_at_ms < ?').run(beforeMs).changes,
  }))();
}

/** Runs inside the caller's transaction. */
export function writeProgress(db: Database.Database, key: string, value: string): void {
  db.prepare('INSERT INTO import_progress (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
}

export function readProgress(db: Database.Database, key: string): string | null {
  const row = db.prepare('SELECT value FROM import_progress WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}
