/**
 * Worker thread entry: writes results.csv from a SQLite store file while the main thread runs the
 * analysis and draws the charts (both read the file; SQLite allows concurrent readers). Posts
 * `{rows}` as it goes and `{done: rows}` or `{error}` at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../errors.js';
import type { CsvJob } from './csv-export.js';
import { writeResultsCsvSqlite } from './sqlite-csv.js';

const job = workerData as CsvJob;
try {
  const rows = writeResultsCsvSqlite(job.dbPath, job.outPath, job.filter, (n) => parentPort?.postMessage({ rows: n }));
  parentPort?.postMessage({ done: rows });
} catch (err) {
  parentPort?.postMessage({ error: errorMessage(err), code: (err as { code?: unknown }).code });
}
