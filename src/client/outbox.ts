/**
 * The client's durable queue of results (SQLite): a result is written here before any attempt to
 * send it and deleted only when a server ACKed it, so results survive restarts and outages. When
 * full, new results are refused loudly; stored ones are never dropped. A corrupt file is renamed
 * aside and a fresh outbox created, so a damaged disk does not stop the measurements.
 */
import { mkdirSync, renameSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, NetprobeError, StorageError, errorCode, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { type Result, resultSchema } from '../protocol/result.js';

export const DEFAULT_OUTBOX_PATH = './netprobe-outbox.db';
/** At one result a minute this is about 70 days of outage. */
export const DEFAULT_OUTBOX_CAPACITY = 100_000;
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  body TEXT NOT NULL
);
-- Rows that no longer validate (hand-edited file, older client): kept for a human, not sent.
CREATE TABLE IF NOT EXISTS outbox_rejected (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  body TEXT NOT NULL,
  reason TEXT NOT NULL,
  rejected_at_ms INTEGER NOT NULL
);`;

/** SQLite error codes that mean the file is not a usable database. */
const CORRUPT = /^SQLITE_(NOTADB|CORRUPT)/;

export class OutboxFullError extends NetprobeError {
  constructor(message: string) {
    super(ErrorCodes.limit, message);
  }
}

export interface OutboxOptions {
  capacity?: number;
  logger?: Logger;
  now?: () => number;
}

function openChecked(path: string): Database.Database {
  const db = new Database(path);
  try {
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.pragma('journal_mode = WAL');
    // FULL: a result the outbox accepted survives a power cut, not only a crash.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StorageError(
        `outbox ${path} has schema version ${version}; this client knows ${SCHEMA_VERSION} (written by a newer netprobe?)`,
      );
    }
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly log: Logger;
  private readonly now: () => number;
  readonly capacity: number;
  private readonly stmts;

  private constructor(
    readonly path: string,
    db: Database.Database,
    options: OutboxOptions,
  ) {
    this.db = db;
    this.log = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.capacity = options.capacity ?? DEFAULT_OUTBOX_CAPACITY;
    this.stmts = {
      insert: db.prepare<[string, number, string]>('INSERT OR IGNORE INTO outbox (id, created_at_ms, body) VALUES (?, ?, ?)'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
      peek: db.prepare<[number], { seq: number; id: string; body: string }>('SELECT seq, id, body FROM outbox ORDER BY seq LIMIT ?'),
      delete: db.prepare<[string]>('DELETE FROM outbox WHERE id = ?'),
      reject: db.prepare<[number, string, string, string, number]>(
        'INSERT OR REPLACE INTO outbox_rejected (seq, id, body, reason, rejected_at_ms) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteSeq: db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?'),
    };
  }

  /** Opens (creating) the outbox at `path`; a corrupt file is moved to `path.corrupt-<time>` first. */
  static open(path: string, options: OutboxOptions = {}): Outbox {
    const log = options.logger ?? silentLogger;
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new StorageError(`cannot create the directory of outbox ${path}: ${errorMessage(err)}`, { cause: err });
    }
    try {
      return new Outbox(path, openChecked(path), options);
    } catch (err) {
      if (!CORRUPT.test(errorCode(err))) {
        if (err instanceof NetprobeError) throw err;
        throw new StorageError(`cannot open outbox ${path}: ${errorMessage(err)}`, { cause: err });
      }
      const aside = `${path}.corrupt-${new Date((options.now ?? Date.now)()).toISOString().replace(/[:.]/g, '-')}`;
      for (const suffix of ['', '-wal', '-shm']) {
        if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
      }
      log.error(
        { path, movedTo: aside, code: errorCode(err), err: errorMessage(err) },
        `outbox ${path} is corrupt: moved it to ${aside} and started an empty outbox (results in the old file were not sent)`,
      );
      return new Outbox(path, openChecked(path), options);
    }
  }

  count(): number {
    return this.stmts.count.get()?.n ?? 0;
  }

  /**
   * Stores a result before it is sent. Validates it (an invalid result is a bug: thrown, not stored).
   * A full outbox throws OutboxFullError after an error log; nothing already stored is dropped.
   */
  add(result: Result): void {
    const parsed = resultSchema.safeParse(result);
    if (!parsed.success) {
      throw new NetprobeError(ErrorCodes.internal, `refusing to store an invalid result (a bug): ${parsed.error.message.slice(0, 2000)}`);
    }
    const stored = this.count();
    if (stored >= this.capacity) {
      const message = `outbox ${this.path} is full (${stored} of ${this.capacity} results unsent): result ${result.id} was NOT stored; check that a server is reachable and accepts our reports`;
      this.log.error({ path: this.path, stored, capacity: this.capacity, id: result.id, code: ErrorCodes.limit }, message);
      throw new OutboxFullError(message);
    }
    try {
      this.stmts.insert.run(result.id, this.now(), JSON.stringify(parsed.data));
    } catch (err) {
      throw new StorageError(`cannot write result ${result.id} to outbox ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /**
   * Stores several results in one transaction (one sync to disk instead of one each): the
   * simulator's reporter hands its lane a simulated hour's results at once. Same rules as `add`:
   * all are validated first; when they do not all fit, none is stored.
   */
  addMany(results: readonly Result[]): void {
    const rows = results.map((result) => {
      const parsed = resultSchema.safeParse(result);
      if (!parsed.success) {
        throw new NetprobeError(ErrorCodes.internal, `refusing to store an invalid result (a bug): ${parsed.error.message.slice(0, 2000)}`);
      }
      return [result.id, JSON.stringify(parsed.data)] as const;
    });
    const stored = this.count();
    if (stored + rows.length > this.capacity) {
      const message = `outbox ${this.path} is full (${stored} of ${this.capacity} results unsent): ${rows.length} results were NOT stored; check that a server is reachable and accepts our reports`;
      this.log.error({ path: this.path, stored, capacity: this.capacity, results: rows.length, code: ErrorCodes.limit }, message);
      throw new OutboxFullError(message);
    }
    const now = this.now();
    try {
      this.db.transaction(() => {
        for (const [id, body] of rows) this.stmts.insert.run(id, now, body);
      })();
    } catch (err) {
      throw new StorageError(`cannot write ${rows.length} results to outbox ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }

  /** The oldest `limit` results, oldest first. Rows that no longer validate are moved to outbox_rejected. */
  peek(limit: number): Result[] {
    const results: Result[] = [];
    for (const row of this.stmts.peek.all(limit)) {
      let reason: string;
      try {
        const parsed = resultSchema.safeParse(JSON.parse(row.body));
        if (parsed.success) {
          results.push(parsed.data);
          continue;
        }
        reason = parsed.error.message;
      } catch (err) {
        reason = errorMessage(err);
      }
      this.log.error(
        { path: this.path, id: row.id, reason: reason.slice(0, 500) },
        'outbox row is not a valid result: moved to outbox_rejected, not sent',
      );
      this.db.transaction(() => {
        this.stmts.reject.run(row.seq, row.id, row.body, reason.slice(0, 2000), this.now());
        this.stmts.deleteSeq.run(row.seq);
      })();
    }
    return results;
  }

  /** Deletes acknowledged results; returns how many were present. */
  delete(ids: readonly string[]): number {
    return this.db.transaction((list: readonly string[]) => {
      let deleted = 0;
      for (const id of list) deleted += this.stmts.delete.run(id).changes;
      return deleted;
    })(ids);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
