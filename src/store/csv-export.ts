/**
 * The stores' `exportResultsCsv`: a SQLite file is exported by SQLite itself in a worker thread
 * (sqlite-csv.ts), concurrently with whatever the caller does meanwhile (the report: its analysis
 * and charts); any other store streams its results through `iterateResults` (results-csv.ts) with
 * bounded memory.
 */
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { StorageError } from '../errors.js';
import { RESULT_CSV_HEADER, resultCsvLine } from './results-csv.js';
import type { AnalysisSource, CsvExport, ResultFilter } from './types.js';

export interface CsvJob {
  dbPath: string;
  outPath: string;
  filter: ResultFilter;
}

/** Bytes buffered before a write. */
const CHUNK_CHARS = 1 << 20;

/** Streams every result in `filter` through the store's iterator into `outPath`. */
export async function writeResultsCsvGeneric(
  store: Pick<AnalysisSource, 'iterateResults'>,
  outPath: string,
  filter: ResultFilter,
  onRows?: (rows: number) => void,
): Promise<number> {
  const file = await open(outPath, 'w');
  try {
    let buffer = RESULT_CSV_HEADER;
    let rows = 0;
    for await (const r of store.iterateResults(filter)) {
      buffer += resultCsvLine(r);
      rows++;
      if (buffer.length >= CHUNK_CHARS) {
        await file.write(buffer);
        buffer = '';
        onRows?.(rows);
      }
    }
    await file.write(buffer);
    onRows?.(rows);
    return rows;
  } finally {
    await file.close();
  }
}

/**
 * The worker: sqlite-csv-worker.js when built. Run from source (tests, benchmarks under tsx), a worker
 * does not get tsx's loader from --import, so a small bootstrap registers it first.
 */
function startWorker(job: CsvJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sqlite-csv-worker.js', import.meta.url), { workerData: job });
  const entry = JSON.stringify(new URL('./sqlite-csv-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true, workerData: job });
}

/** Exports the SQLite file `job.dbPath` in a worker thread. */
export function sqliteCsvInWorker(job: CsvJob, onRows?: (rows: number) => void): CsvExport {
  const worker = startWorker(job);
  const done = new Promise<number>((resolve, reject) => {
    let settled = false;
    worker.on('message', (m: { rows?: number; done?: number; error?: string }) => {
      if (m.rows !== undefined) onRows?.(m.rows);
      if (m.done !== undefined) {
        settled = true;
        resolve(m.done);
      }
      if (m.error !== undefined) {
        settled = true;
        reject(new StorageError(`exporting results.csv from ${job.dbPath} failed: ${m.error}`));
      }
    });
    worker.on('error', (err) => {
      settled = true;
      reject(new StorageError(`exporting results.csv from ${job.dbPath} failed: ${err.message}`, { cause: err }));
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new StorageError(`the results.csv export stopped (exit ${code})`));
    });
  });
  return {
    done,
    cancel: async () => {
      done.catch(() => undefined);
      await worker.terminate();
    },
  };
}

/** Exports on this thread through the store's iterator. */
export function genericCsvExport(
  store: Pick<AnalysisSource, 'iterateResults'>,
  outPath: string,
  filter: ResultFilter,
  onRows?: (rows: number) => void,
): CsvExport {
  const done = writeResultsCsvGeneric(store, outPath, filter, onRows);
  return {
    done,
    cancel: async () => {
      await done.catch(() => undefined);
    },
  };
}
