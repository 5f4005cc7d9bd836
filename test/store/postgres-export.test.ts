/**
 * results.csv from PostgreSQL in bounded memory: `exportResultsCsv` pages through the table (keyset
 * on started_at_ms, id), so what it holds does not grow with the row count. Measured as the heap
 * left after a full GC at every flushed chunk, against the size of the file written.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStore } from '../../src/store/open.js';
import { monthOf, monthStartMs } from '../../src/store/postgres-partitions.js';
import { adminQuery, needPostgres, schemaLocation } from './helpers/postgres.js';

const ROWS = 200_000;

/** A full garbage collection (the test process runs without --expose-gc). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

test(`PostgreSQL exports ${ROWS} results to results.csv with heap growth far below the file's size`, async (t) => {
  if (!(await needPostgres(t))) return;
  const { location, schema } = schemaLocation(t, 'np_csvmem');
  const store = await openStore(location);
  t.after(() => store.close());
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-pg-csv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  // In this month's partition (made at open), one result a millisecond, 50 clients.
  const t0 = monthStartMs(monthOf(Date.now())) + 1_000;
  await adminQuery(
    `INSERT INTO ${schema}.results (id, client, server, file, mode, started_at_ms, received_at_ms, bytes, connect_ms, tls_ms, response_ms,
       download_ms, throughput_mbps, idle_rtt_ms, samples_mbps, client_limited, sha256_ok, tls_version, cipher, busy_retries)
     SELECT lpad(to_hex(i), 32, '0')::uuid, 'client-' || (i % 50), 'server-1:7443', '10MiB', 'file', $1::bigint + i, $1::bigint + i + 5, 10485760,
       1.25, 3.5, 12.75, 840.5, 99.8 + (i % 7), 0.8, '[95.1,101.2,99.7,100.4]', false, true, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384', 0
     FROM generate_series(1, $2::int) AS i`,
    [t0, ROWS],
  );

  const gc = collector();
  gc();
  const baseBytes = process.memoryUsage().heapUsed;
  let peakGrowthBytes = 0;
  let chunks = 0;
  const path = join(dir, 'results.csv');
  const written = await store.exportResultsCsv(path, {}, () => {
    chunks++;
    gc();
    peakGrowthBytes = Math.max(peakGrowthBytes, process.memoryUsage().heapUsed - baseBytes);
  }).done;

  assert.equal(written, ROWS);
  assert.equal(await countLines(path), ROWS + 1, 'a header and one line per result');
  const fileBytes = (await stat(path)).size;
  t.diagnostic(
    `file ${(fileBytes / 2 ** 20).toFixed(1)} MiB in ${chunks} chunks; heap growth after GC at most ${(peakGrowthBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  assert.ok(chunks > 10, `measured at ${chunks} flushes`);
  // Holding every row (as objects, or as the text) would be at least the file's size; what is held
  // is one page of rows (5,000) and one chunk of text (1 Mi characters), whatever the row count
  // (here about 6 MiB against 44 MiB written).
  assert.ok(peakGrowthBytes < fileBytes / 4, `heap grew by ${peakGrowthBytes} B while writing a ${fileBytes} B file`);
});
