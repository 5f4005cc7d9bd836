/**
 * Schema 5 (SQLite) / 4 (PostgreSQL): results gain `streams` and `streams_mbps`. A result of one
 * stream reads back without either field (as before); a parallel one keeps both, in the store and
 * in results.csv (the same cells from either store).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { StoredResult } from '../../src/protocol/result.js';
import { stored } from '../analysis/helpers/dataset.js';
import { BACKENDS, collect, freshStore } from './helpers/backends.js';

const AT = Date.UTC(2025, 0, 6, 12);

function parallel(): StoredResult {
  return { ...stored({ client: 'a', at: AT + 60_000, mbps: 400 }), streams: 4, streamsMbps: [101.5, 99.25, 100, 99.25] };
}

describe('result streams', () => {
  for (const backend of BACKENDS) {
    test(`${backend.name}: a parallel result keeps streams and streamsMbps; a single-stream one has neither; results.csv shows both`, async (t) => {
      const fresh = await freshStore(t, backend);
      if (!fresh) return;
      const single = stored({ client: 'a', at: AT });
      const multi = parallel();
      await fresh.store.insertResults([[single, multi]]);
      const rows = await collect(fresh.store.iterateResults());
      const byId = new Map(rows.map((r) => [r.id, r]));
      assert.deepEqual(byId.get(multi.id), multi);
      assert.deepEqual(byId.get(single.id), single);
      assert.equal(Object.hasOwn(byId.get(single.id)!, 'streams'), false);

      const dir = await mkdtemp(join(tmpdir(), 'netprobe-csv-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const path = join(dir, 'results.csv');
      assert.equal(await fresh.store.exportResultsCsv(path, {}).done, 2);
      const [header, ...lines] = (await readFile(path, 'utf8')).trimEnd().split('\n');
      // tlsResumed and the self-probe and TCP columns after them are empty: these results do not say.
      assert.match(header!, /,streams,streamsMbps,tlsResumed,rpmForeign,rpmSelf,rpmSelfProbes,tcpRttMs,tcpRetransmits$/);
      assert.match(lines[0]!, /,1,,,,,,,$/, 'one stream: streams 1, no per-stream figures');
      assert.match(lines[1]!, /,4,"\[101\.5,99\.25,100,99\.25\]",,,,,,$/);
    });
  }
});
