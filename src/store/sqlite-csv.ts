/**
 * results.csv straight from a SQLite store file. SQLite formats each row as one line with one
 * format() call, so a single string per row crosses into JavaScript (about 3× faster than building
 * StoredResult objects). The line carries a tail: the row's text cells, separated by control
 * characters. A row whose text needs care (a quote, comma or line break, or a formula
 * start; see csv.ts) is read again and written by csv.ts's formatter; every other row is
 * written as SQLite formatted it. (The tail ends with the rowid, which finds the row again.) Numbers are SQLite's text of the stored value (exact; a whole
 * REAL prints as '5.0'), NULL an empty cell; rows come in start-time order (ties in storage order).
 *
 * The SQLite implementation of `exportResultsCsv` (csv-export.ts runs it in a worker thread).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { RESULT_CSV_COLUMNS, RESULT_CSV_HEADER, resultCsvLine } from './results-csv.js';
import { fromRow } from './rows.js';
import type { ResultFilter } from './types.js';

/** Lines written per write(2). */
const BATCH_LINES = 4096;
/** Starts the tail (record separator) and separates its cells (unit separator). */
const TAIL = '\x1e';
const CELL = '\x1f';
/** In the tail: a character that needs quoting, or a cell that starts like a formula (after a separator). */
// eslint-disable-next-line no-control-regex -- the separators are control characters on purpose
const NEEDS_CARE = /[",\n\r]|[\x1e\x1f][=+\-@\t\r]/;

const TAIL_COLUMNS = [...RESULT_CSV_COLUMNS.filter(([, kind]) => kind === 'text').map(([, , , column]) => column), 'rowid'];

function cellSql(kind: string, column: string): string {
  switch (kind) {
    case 'time':
      // 'subsec' gives milliseconds; cheaper than strftime's format parsing.
      return `replace(datetime(${column} / 1000.0, 'unixepoch', 'subsec'), ' ', 'T') || 'Z'`;
    case 'bool':
      return `CASE ${column} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END`;
    default:
      return column;
  }
}

/** The SELECT that yields one line (with its tail) per result, in start-time order, for `filter`. */
export function csvSelect(filter: ResultFilter): { sql: string; params: Record<string, unknown> } {
  const format = `${RESULT_CSV_COLUMNS.map(() => '%s').join(',')}${TAIL}${TAIL_COLUMNS.map(() => '%s').join(CELL)}`;
  const cells = [...RESULT_CSV_COLUMNS.map(([, kind, , column]) => cellSql(kind, column)), ...TAIL_COLUMNS];
  const clauses: string[] = [];
  const params: Record<string, unknown> = { format };
  if (filter.sinceMs !== undefined) {
    clauses.push('started_at_ms >= @since');
    params.since = filter.sinceMs;
  }
  if (filter.untilMs !== undefined) {
    clauses.push('started_at_ms < @until');
    params.until = filter.untilMs;
  }
  if (filter.clients && filter.clients.length > 0) {
    clauses.push(`client IN (${filter.clients.map((_, i) => `@client${i}`).join(', ')})`);
    filter.clients.forEach((c, i) => (params[`client${i}`] = c));
  }
  const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
  return { sql: `SELECT format(@format, ${cells.join(', ')}) FROM results ${where} ORDER BY started_at_ms`, params };
}

/** Writes results.csv from the SQLite file `dbPath` to `outPath`; returns the rows written. */
export function writeResultsCsvSqlite(dbPath: string, outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): number {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  // A second connection reads the rows that need care while the first one iterates.
  const lookup = new Database(dbPath, { readonly: true, fileMustExist: true });
  const byRowid = lookup.prepare('SELECT * FROM results WHERE rowid = ?');
  const fd = openSync(outPath, 'w');
  try {
    writeSync(fd, RESULT_CSV_HEADER);
    const { sql, params } = csvSelect(filter);
    let rows = 0;
    let batch: string[] = [];
    for (const line of db.prepare(sql).pluck().iterate(params) as Iterable<string>) {
      const tail = line.lastIndexOf(TAIL);
      // A text cell holding the separator itself also takes the careful way.
      if (NEEDS_CARE.test(line.slice(tail)) || line.indexOf(TAIL) !== tail) {
        const rowid = Number(line.slice(line.lastIndexOf(CELL) + 1));
        batch.push(resultCsvLine(fromRow(byRowid.get(rowid) as Record<string, unknown>)).slice(0, -1));
      } else {
        batch.push(line.slice(0, tail));
      }
      if (batch.length === BATCH_LINES) {
        writeSync(fd, `${batch.join('\n')}\n`);
        rows += batch.length;
        batch = [];
        onRows?.(rows);
      }
    }
    if (batch.length > 0) writeSync(fd, `${batch.join('\n')}\n`);
    rows += batch.length;
    onRows?.(rows);
    return rows;
  } finally {
    closeSync(fd);
    lookup.close();
    db.close();
  }
}
