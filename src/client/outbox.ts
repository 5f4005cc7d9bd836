/**
 * The client's durable queue of results (SQLite): a result is written here before any attempt to
 * send it and deleted only when a server ACKed it, so results survive restarts and outages. When
 * full, new results are refused loudly; stored ones are never dropped. A corrupt file is renamed
 * aside and a fresh outbox created, so a damaged disk does not stop the measurements.
 *
 * It also keeps the client's state between runs (`ClientState`): the measurement count that paces
 * full TLS handshakes, and the servers' TLS session tickets, so a client started anew for each run
 * (a timer, cron, a restart) resumes too. A ticket lets whoever reads it resume a session as this
 * client, as the private key beside it would: tickets are stored only while the file is private
 * (owner-only mode, ours; a new outbox is created 0600), and each is bound to the certificate and CA
 * it was made with.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, NetprobeError, StorageError, errorCode, errorMessage } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { type Result, resultSchema } from '../protocol/result.js';

export const DEFAULT_OUTBOX_PATH = './netprobe-outbox.db';
/** At one result a minute this is about 70 days of outage. */
export const DEFAULT_OUTBOX_CAPACITY = 100_000;
/**
 * Tables are only ever added (CREATE TABLE IF NOT EXISTS): a client of an older version opens the
 * file and ignores what it does not know, so the version moves only for a change it would misread.
 */
const SCHEMA_VERSION = 1;
/** RFC 8446 §4.6.1: no ticket lives longer than 7 days; older rows are dropped when state is read. */
const MAX_TICKET_AGE_MS = 7 * 24 * 3600 * 1000;

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
);
-- The latest TLS session ticket of each server, for the client identity (certificate and CA) it belongs to.
CREATE TABLE IF NOT EXISTS tls_sessions (
  server TEXT NOT NULL,
  identity TEXT NOT NULL,
  session BLOB NOT NULL,
  saved_at_ms INTEGER NOT NULL,
  PRIMARY KEY (server, identity)
);
CREATE TABLE IF NOT EXISTS client_state (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);`;

/** SQLite error codes that mean the file is not a usable database. */
const CORRUPT = /^SQLITE_(NOTADB|CORRUPT)/;

export class OutboxFullError extends NetprobeError {
  constructor(message: string) {
    super(ErrorCodes.limit, message);
  }
}

/** What a client carries from one run to the next. */
export interface ClientState {
  /** Measurements started so far (full handshakes go every n-th). */
  measurements: number;
  /** TLS session tickets by server key (connect.ts `TlsSessions.key`): all of them when read, the new ones when written. */
  sessions: Map<string, Buffer>;
}

export interface OutboxOptions {
  capacity?: number;
  logger?: Logger;
  now?: () => number;
}

/**
 * Whether only this process's user can read the file: tickets may be written to it. Without
 * getuid (Windows), never.
 */
function isPrivate(path: string): { private: boolean; mode: string } {
  const st = statSync(path);
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  return { private: process.getuid !== undefined && st.uid === process.getuid() && (st.mode & 0o077) === 0, mode };
}

function openChecked(path: string): Database.Database {
  // A new outbox is the owner's only (SQLite gives its -wal and -shm files the same mode).
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
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
  /** Tickets may be stored: the file is private (isPrivate). */
  readonly keepsTickets: boolean;
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
    const access = isPrivate(path);
    this.keepsTickets = access.private;
    if (!access.private) {
      // Tickets written while it was private are not left readable.
      const dropped = db.prepare('DELETE FROM tls_sessions').run().changes;
      this.log.info(
        { path, mode: access.mode, droppedTickets: dropped },
        `outbox ${path} is readable by others (mode ${access.mode}): TLS session tickets are kept in memory only${dropped > 0 ? ` (${dropped} stored ones deleted)` : ''}; chmod 600 ${path} keeps them across runs`,
      );
    }
    this.stmts = {
      insert: db.prepare<[string, number, string]>('INSERT OR IGNORE INTO outbox (id, created_at_ms, body) VALUES (?, ?, ?)'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
      peek: db.prepare<[number], { seq: number; id: string; body: string }>('SELECT seq, id, body FROM outbox ORDER BY seq LIMIT ?'),
      delete: db.prepare<[string]>('DELETE FROM outbox WHERE id = ?'),
      reject: db.prepare<[number, string, string, string, number]>(
        'INSERT OR REPLACE INTO outbox_rejected (seq, id, body, reason, rejected_at_ms) VALUES (?, ?, ?, ?, ?)',
      ),
      deleteSeq: db.prepare<[number]>('DELETE FROM outbox WHERE seq = ?'),
      sessions: db.prepare<[string], { server: string; session: Buffer }>('SELECT server, session FROM tls_sessions WHERE identity = ?'),
      saveSession: db.prepare<[string, string, Buffer, number]>(
        'INSERT OR REPLACE INTO tls_sessions (server, identity, session, saved_at_ms) VALUES (?, ?, ?, ?)',
      ),
      dropSessions: db.prepare<[number]>('DELETE FROM tls_sessions WHERE saved_at_ms < ?'),
      measurements: db.prepare<[], { value: number }>("SELECT value FROM client_state WHERE name = 'measurements'"),
      saveMeasurements: db.prepare<[number]>("INSERT OR REPLACE INTO client_state (name, value) VALUES ('measurements', ?)"),
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

  /**
   * The state the last run left for `identity` (a digest of the client's certificate and CA: a
   * ticket made with other ones is not offered). Tickets older than TLS 1.3 allows are dropped.
   */
  readClientState(identity: string): ClientState {
    const measurements = this.stmts.measurements.get()?.value ?? 0;
    const sessions = new Map<string, Buffer>();
    if (!this.keepsTickets) return { measurements, sessions };
    this.stmts.dropSessions.run(this.now() - MAX_TICKET_AGE_MS);
    for (const row of this.stmts.sessions.all(identity)) sessions.set(row.server, row.session);
    return { measurements, sessions };
  }

  /**
   * Keeps the state for the next run: the count, and the tickets that arrived since the last call
   * (their age counts from now), only while the file is private. Written without a
   * sync to disk (a power cut may cost the next run its resumption, never a result): one commit
   * after each measurement.
   */
  writeClientState(identity: string, state: ClientState): void {
    const now = this.now();
    try {
      this.db.pragma('synchronous = NORMAL');
      this.db.transaction(() => {
        this.stmts.saveMeasurements.run(state.measurements);
        if (this.keepsTickets) for (const [server, session] of state.sessions) this.stmts.saveSession.run(server, identity, session, now);
      })();
    } catch (err) {
      throw new StorageError(`cannot write the client's state to outbox ${this.path}: ${errorMessage(err)}`, { cause: err });
    } finally {
      if (this.db.open) this.db.pragma('synchronous = FULL');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
