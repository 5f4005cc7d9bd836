/**
 * The real reporting path for the model engine's results: a few lanes, each the real client's
 * reporter sending REPORT batches over mutual TLS to the server. A lane's queue is in memory
 * (`MemoryQueue`), not the client's SQLite outbox: the model's results are computed from the seed,
 * so a crash loses nothing a durable outbox would keep, and writing, validating and reading back
 * every result there cost the run a third of its CPU. Every lane
 * presents the simulator's certificate; each result names its virtual client (the server's
 * ReportDelegation checks the name and stores the result under it).
 */
import type { Endpoint } from '../client/endpoint.js';
import { ServerPool } from '../client/pool.js';
import { OutboxFullError } from '../client/outbox.js';
import { type FlushOutcome, type ReportQueue, Reporter } from '../client/reporter.js';
import { openSession } from '../client/session.js';
import type { Logger } from '../log.js';
import type { Result } from '../protocol/result.js';
import type { TlsMaterial } from '../tls/options.js';

/** Results waiting for their ACK, oldest first. Same contract as the client's Outbox, without the disk. */
export class MemoryQueue implements ReportQueue {
  private readonly held = new Map<string, Result>();

  constructor(readonly capacity: number) {}

  count(): number {
    return this.held.size;
  }

  /** Adds results (a duplicate id is ignored, as the outbox does); refuses all when they do not all fit. */
  addMany(results: readonly Result[]): void {
    if (this.held.size + results.length > this.capacity) {
      throw new OutboxFullError(
        `simulator lane is full (${this.held.size} of ${this.capacity} results unsent): ${results.length} results were NOT queued`,
      );
    }
    for (const r of results) if (!this.held.has(r.id)) this.held.set(r.id, r);
  }

  peek(limit: number): Result[] {
    const out: Result[] = [];
    for (const r of this.held.values()) {
      if (out.length >= limit) break;
      out.push(r);
    }
    return out;
  }

  delete(ids: readonly string[]): number {
    let deleted = 0;
    for (const id of ids) if (this.held.delete(id)) deleted++;
    return deleted;
  }
}

export interface Lane {
  outbox: MemoryQueue;
  reporter: Reporter;
}

export interface LanesOptions {
  count: number;
  server: Endpoint;
  tls: TlsMaterial;
  logger: Logger;
  random: () => number;
  /** Results a lane may hold unsent (above: OutboxFullError, never a silent drop). */
  capacity: number;
}

export class ReportLanes {
  readonly lanes: Lane[];

  constructor(o: LanesOptions) {
    this.lanes = Array.from({ length: o.count }, () => {
      const outbox = new MemoryQueue(o.capacity);
      const pool = new ServerPool([o.server], { random: o.random, retryBaseMs: 100 });
      const reporter = new Reporter({
        outbox,
        pool,
        random: o.random,
        logger: o.logger,
        batchSize: 1_000,
        backoffBaseMs: 100,
        backoffMaxMs: 1_000,
        open: async (endpoint) => (await openSession({ endpoint, tls: o.tls })).session,
      });
      return { outbox, reporter };
    });
  }

  /** Puts each result in its client's lane (client index modulo the lanes). */
  add(results: readonly { clientIndex: number; result: Result }[]): void {
    const byLane = this.lanes.map(() => [] as Result[]);
    for (const r of results) byLane[r.clientIndex % this.lanes.length]!.push(r.result);
    byLane.forEach((list, i) => {
      if (list.length > 0) this.lanes[i]!.outbox.addMany(list);
    });
  }

  unsent(): number {
    return this.lanes.reduce((n, l) => n + l.outbox.count(), 0);
  }

  /** Every lane sends what it holds, concurrently (one TLS session each). */
  flush(): Promise<FlushOutcome[]> {
    return Promise.all(this.lanes.map((l) => l.reporter.flush()));
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.reporter.stop()));
  }
}
