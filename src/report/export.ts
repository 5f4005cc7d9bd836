/**
 * Writes results.csv for a store: a SQLite file is exported by SQLite itself in a worker thread
 * (csv-sqlite.ts), concurrently with the rest of the report; any other store streams its results
 * through `iterateResults` (csv.ts) with bounded memory.
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { StorageError } from '../errors.js';
import type { ResultFilter, Store } from '../store/types.js';
import { RESULT_CSV_HEADER, resultCsvLine } from './csv.js';

export interface CsvJob {
  dbPath: string;
  outPath: string;
  filter: ResultFilter;
}

/** Bytes buffered before a write. */
const CHUNK_CHARS = 1 << 20;

/** The SQLite file behind a store, when it is one ('sqlite:' prefix or a plain path, not ':memory:'). */
export function sqliteFile(store: Store): string | null {
  if (store.kind !== 'sqlite') return null;
  const path = store.location.startsWith('sqlite:') ? store.location.slice('sqlite:'.length) : store.location;
  return path !== '' && path !== ':memory:' && existsSync(path) ? path : null;
}

/** Streams every result in `filter` through the store's iterator into `outPath`. */
export async function writeResultsCsvGeneric(store: Store, outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): Promise<number> {
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
 * The worker: csv-worker.js when built. Run from source (tests, benchmarks under tsx), a worker
 * does not get tsx's loader from --import, so a small bootstrap registers it first.
 */
function startWorker(job: CsvJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./csv-worker.js', import.meta.url), { workerData: job });
  const entry = JSON.stringify(new URL('./csv-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true, workerData: job });
}

export interface CsvExport {
  /** Rows written. */
  done: Promise<number>;
  /** Stops the export (the file is left incomplete). */
  cancel(): Promise<void>;
}

function inWorker(job: CsvJob, onRows?: (rows: number) => void): CsvExport {
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

/** Starts writing results.csv (in a worker thread for a SQLite file, else on this thread). */
export function startResultsCsv(store: Store, outPath: string, filter: ResultFilter, onRows?: (rows: number) => void): CsvExport {
  const dbPath = sqliteFile(store);
  if (dbPath !== null) return inWorker({ dbPath, outPath, filter }, onRows);
  const done = writeResultsCsvGeneric(store, outPath, filter, onRows);
  return {
    done,
    cancel: async () => {
      await done.catch(() => undefined);
    },
  };
}
