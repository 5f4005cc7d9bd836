/**
 * The primary's side of the per-client connection limit of a multi-process server (a worker's side
 * and the scheme: `slot-shares.ts`). The primary keeps each worker's allotment of a client's slots:
 * its share of the limit, implicitly, for every client no worker deviates for (no state at all, so
 * the common connection costs no message), and explicitly in a `SharedSlots` (the exact count per
 * worker, a dead worker's slots given back) once a worker borrows or lends. It counts what it sends
 * at once (a share, a grant) and what it is sent when it arrives (a return), so its count of a
 * worker's allotment is never below the worker's own, and never lets the allotments exceed the limit.
 */
import type { SlotToWorker } from './slot-shares.js';
import { SharedSlots } from './slots.js';

interface Recall<W> {
  /** The worker whose ask started the recall: the only one every other worker gives back to. */
  asker: W;
  /** Workers whose answer to `slotRecall` has not come yet. */
  awaiting: Set<W>;
  /** Asks to answer once they have: in arrival order. */
  queue: { worker: W; n: number }[];
}

export class SlotLedger<W> {
  /** Explicit allotments of the clients some worker deviates for (borrowed or lent). */
  private readonly held: SharedSlots<W>;
  /** Every worker and its share now (0 until `offerShare` could give it the full one). */
  private readonly shares = new Map<W, number>();
  /** Clients held explicitly in `held`, with the recall under way for each, if any. */
  private readonly explicit = new Map<string, { recall: Recall<W> | undefined }>();
  private readonly waitingForShare = new Set<W>();

  /**
   * `fullShare`: a worker's share of every client's limit (`floor(limit / workers)`, so the shares
   * never add up to more than the limit); `send` delivers to a worker, in order.
   */
  constructor(
    readonly limit: number,
    private readonly fullShare: number,
    private readonly send: (worker: W, message: SlotToWorker) => void,
  ) {
    this.held = new SharedSlots<W>(limit);
  }

  /** A new worker: it may ask, with no share yet. */
  add(worker: W): void {
    this.shares.set(worker, 0);
  }

  /** Gives `worker` (listening now: it handles messages) its full share as soon as that keeps every client within the limit. */
  offerShare(worker: W): void {
    if (!this.shares.has(worker) || this.fullShare === 0) return;
    this.waitingForShare.add(worker);
    this.giveShares();
  }

  /** `worker` asks for `n` more slots of `client`. */
  ask(worker: W, client: string, n: number): void {
    if (!this.shares.has(worker)) return;
    const state = this.makeExplicit(client);
    if (state.recall !== undefined) {
      state.recall.queue.push({ worker, n });
      return;
    }
    const free = this.free(client);
    const holders = [...this.shares.keys()].filter((w) => w !== worker && this.held.heldByWorker(w, client) > 0);
    if (free >= n || holders.length === 0) {
      this.grant(worker, client, Math.min(n, free), true);
      return this.settle(client);
    }
    state.recall = { asker: worker, awaiting: new Set(holders), queue: [{ worker, n }] };
    for (const w of holders) this.send(w, { t: 'slotRecall', client });
  }

  /** `worker` gave back `n` unused slots of `client` (`recalled`: its answer to a recall). */
  returned(worker: W, client: string, n: number, recalled: boolean): void {
    if (!this.shares.has(worker)) return;
    this.makeExplicit(client);
    for (let i = 0; i < n; i++) this.held.give(worker, client);
    const recall = this.explicit.get(client)?.recall;
    if (recalled && recall !== undefined) {
      recall.awaiting.delete(worker);
      if (recall.awaiting.size === 0) this.finishRecall(client);
    }
    this.settle(client);
  }

  /** `worker` exited: every slot it held is free. */
  remove(worker: W): void {
    this.shares.delete(worker);
    this.waitingForShare.delete(worker);
    this.held.release(worker);
    for (const [client, state] of [...this.explicit]) {
      if (state.recall !== undefined) {
        state.recall.queue = state.recall.queue.filter((q) => q.worker !== worker);
        state.recall.awaiting.delete(worker);
        if (state.recall.awaiting.size === 0) this.finishRecall(client);
      }
      this.settle(client);
    }
    this.giveShares();
  }

  /** Slots of `client` allotted over all workers now. */
  allotted(client: string): number {
    return this.explicit.has(client) ? this.held.heldBy(client) : this.sharesTotal();
  }

  /** Clients held explicitly now (memory follows the clients some worker borrows or lends for). */
  get explicitClients(): number {
    return this.explicit.size;
  }

  private sharesTotal(): number {
    let total = 0;
    for (const s of this.shares.values()) total += s;
    return total;
  }

  private free(client: string): number {
    return this.limit - this.allotted(client);
  }

  /** From implicit shares to explicit counts: each worker holds its share. */
  private makeExplicit(client: string): { recall: Recall<W> | undefined } {
    let state = this.explicit.get(client);
    if (state !== undefined) return state;
    for (const [w, share] of this.shares) for (let i = 0; i < share; i++) this.held.take(w, client);
    this.explicit.set(client, (state = { recall: undefined }));
    return state;
  }

  private grant(worker: W, client: string, n: number, answer: boolean): void {
    let granted = 0;
    while (granted < n && this.held.take(worker, client)) granted++;
    this.send(worker, { t: 'slotGrant', client, n: granted, answer });
  }

  private finishRecall(client: string): void {
    const state = this.explicit.get(client);
    const recall = state?.recall;
    if (state === undefined || recall === undefined) return;
    state.recall = undefined;
    const [first, ...later] = recall.queue;
    if (first !== undefined && first.worker === recall.asker) {
      // Every worker but the asker has given back what it did not use: what is free now is all there is.
      this.grant(first.worker, client, Math.min(first.n, this.free(client)), true);
    } else if (first !== undefined) later.unshift(first);
    // An ask queued behind the recall may need slots nobody recalled (the asker's unused ones, when
    // it is a worker that was recalled): asked anew, with a new recall where needed. Answering it from
    // the free slots alone refused connections while the client was below its limit.
    for (const { worker, n } of later) this.ask(worker, client, n);
  }

  /**
   * Gives lenders their slots back while some are free, and forgets the client once every worker
   * holds exactly its share again.
   */
  private settle(client: string): void {
    const state = this.explicit.get(client);
    if (state === undefined || state.recall !== undefined) return;
    let even = true;
    for (const [w, share] of this.shares) {
      const lent = share - this.held.heldByWorker(w, client);
      if (lent > 0) {
        const n = Math.min(lent, this.free(client));
        if (n > 0) this.grant(w, client, n, false);
      }
      if (this.held.heldByWorker(w, client) !== share) even = false;
    }
    if (!even) return;
    for (const [w, share] of this.shares) for (let i = 0; i < share; i++) this.held.give(w, client);
    this.explicit.delete(client);
    if (this.waitingForShare.size > 0) this.giveShares();
  }

  /** Full shares to the workers waiting for one, when every client then stays within the limit. */
  private giveShares(): void {
    for (const w of [...this.waitingForShare]) {
      if (this.sharesTotal() + this.fullShare > this.limit) return;
      for (const client of this.explicit.keys()) if (this.free(client) < this.fullShare) return;
      for (const client of this.explicit.keys()) for (let i = 0; i < this.fullShare; i++) this.held.take(w, client);
      this.shares.set(w, this.fullShare);
      this.waitingForShare.delete(w);
      this.send(w, { t: 'slotShare', share: this.fullShare });
    }
  }
}
