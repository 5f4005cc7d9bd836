/**
 * The real reporting path for the model engine's results: a few lanes, each the real client's
 * outbox (SQLite) and reporter, sending REPORT batches over mutual TLS to the server. Every lane
 * presents the simulator's certificate; each result names its virtual client (the server's
 * ReportDelegation checks the name and stores the result under it).
 */
import { join } from 'node:path';
import type { Endpoint } from '../client/endpoint.js';
import { Outbox } from '../client/outbox.js';
import { ServerPool } from '../client/pool.js';
import { type FlushOutcome, Reporter } from '../client/reporter.js';
import { openSession } from '../client/session.js';
import type { Logger } from '../log.js';
import type { Result } from '../protocol/result.js';
import type { TlsMaterial } from '../tls/options.js';

export interface Lane {
  outbox: Outbox;
  reporter: Reporter;
}

export interface LanesOptions {
  count: number;
  server: Endpoint;
  tls: TlsMaterial;
  outboxDir: string;
  logger: Logger;
  random: () => number;
  /** Results a lane may hold unsent (above: OutboxFullError, never a silent drop). */
  capacity: number;
}

export class ReportLanes {
  readonly lanes: Lane[];

  constructor(o: LanesOptions) {
    this.lanes = Array.from({ length: o.count }, (_, i) => {
      const outbox = Outbox.open(join(o.outboxDir, `lane-${i + 1}.db`), { capacity: o.capacity, logger: o.logger });
      const pool = new ServerPool([o.server], { random: o.random, retryBaseMs: 100 });
      const reporter = new Reporter({
        outbox, pool, random: o.random, logger: o.logger, batchSize: 1_000, backoffBaseMs: 100, backoffMaxMs: 1_000,
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
    for (const l of this.lanes) l.outbox.close();
  }
}
