/**
 * Builds a SQLite store of synthetic results quickly: the real schema (migrations), one
 * transaction, one prepared statement, ids ascending (the primary key only appends), and the
 * secondary indexes dropped during the load and rebuilt after it from their own definitions
 * (a bulk index build sorts once instead of updating two B-trees per row).
 *
 * The fleet: clients measuring every 5 minutes, each at its own speed (10–500 Mbit/s), a
 * daily evening dip, noise, about 1 % failures, an occasional offline afternoon, evening
 * congestion shared by most clients on some days, and the server's load annotation.
 */
import Database from 'better-sqlite3';
import { RESULT_COLUMNS } from '../src/store/rows.js';
import { migrateSqlite } from '../src/store/sqlite.js';
import { seededRandom } from '../src/sim/random.js';

export interface FleetShape {
  results: number;
  clients: number;
  intervalMs: number;
  startMs: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Deterministic PRNG (mulberry32): the same store every run. */
const random = seededRandom;

/** UUID-shaped, ascending with i (the store's primary key is text). */
function idOf(i: number): string {
  const hex = i.toString(16).padStart(20, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(12, 15)}-8${hex.slice(15, 18)}-${hex.slice(18).padStart(12, '0')}`;
}

export function buildSyntheticStore(path: string, shape: FleetShape): void {
  const db = new Database(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  migrateSqlite(db, path);
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'results' AND sql IS NOT NULL")
    .all() as {
    name: string;
    sql: string;
  }[];
  for (const index of indexes) db.exec(`DROP INDEX ${index.name}`);

  // The generator fills the columns up to server_outbound_mbps by position; columns added by later
  // migrations get their defaults (direction: download, streams: 1, the rest null), so new columns don't break it.
  const filled = RESULT_COLUMNS.indexOf('server_outbound_mbps') + 1;
  const defaults: Partial<Record<(typeof RESULT_COLUMNS)[number], string | number>> = { direction: 'download', streams: 1 };
  const laterDefaults = RESULT_COLUMNS.slice(filled).map((column) => defaults[column] ?? null);
  const stmt = db.prepare(`INSERT INTO results (${RESULT_COLUMNS.join(',')}) VALUES (${RESULT_COLUMNS.map(() => '?').join(',')})`);
  const insert = { run: (...values: unknown[]) => stmt.run(...values, ...laterDefaults) };
  const rand = random(42);
  const speeds = Array.from({ length: shape.clients }, () => 10 + 490 * rand() ** 2);
  const names = Array.from({ length: shape.clients }, (_, c) => `client-${String(c).padStart(4, '0')}`);
  const congestedDay = (day: number) => day % 5 === 3;
  const offlineDay = (client: number, day: number) => (client * 7 + day) % 53 === 0;

  db.transaction(() => {
    let i = 0;
    for (let round = 0; i < shape.results; round++) {
      for (let c = 0; c < shape.clients && i < shape.results; c++) {
        const startedAtMs = shape.startMs + round * shape.intervalMs + c * 997;
        const day = Math.floor((startedAtMs - shape.startMs) / DAY);
        const hour = Math.floor(startedAtMs / HOUR) % 24;
        if (offlineDay(c, day) && hour >= 12 && hour < 18) continue; // never arrived: a gap
        const evening = hour >= 18 && hour < 22;
        const rush = evening && congestedDay(day) && c % 10 !== 0;
        const failed = rand() < (rush ? 0.05 : 0.01);
        const level = speeds[c]! * (evening ? 0.8 : 1) * (rush ? 0.3 : 1) * (0.9 + 0.2 * rand());
        const bytes = 10_485_760;
        const responseMs = 5 + 20 * rand() + (rush ? 60 : 0);
        const transferMs = (bytes * 8) / (level * 1000);
        const idle = 2 + 10 * rand();
        insert.run(
          idOf(i),
          names[c],
          'bench:7443',
          '10MiB',
          'file',
          startedAtMs,
          Math.round(startedAtMs + transferMs + 1000),
          failed ? 0 : bytes,
          null,
          1,
          3,
          idle,
          failed ? null : responseMs,
          failed ? null : responseMs + transferMs,
          failed ? null : transferMs,
          failed ? null : level,
          failed ? null : (bytes * 8) / ((responseMs + transferMs) * 1000),
          failed ? null : idle + (rush ? 80 : 15),
          '[]',
          5,
          rand() < 0.02 ? 1 : 0,
          failed ? null : 1,
          'TLSv1.3',
          'TLS_AES_256_GCM_SHA384',
          0,
          failed ? 'NETPROBE_TIMEOUT' : null,
          failed ? 'timed out' : null,
          rush ? 40 + Math.floor(20 * rand()) : Math.floor(8 * rand()),
          rush ? 9000 : 3000,
        );
        i++;
      }
    }
  })();
  for (const index of indexes) db.exec(index.sql);
  db.close();
}
