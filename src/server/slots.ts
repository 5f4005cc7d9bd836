/**
 * The per-client connection limit (`maxConnectionsPerClient`): a client certificate holds at most
 * that many admitted connections server-wide. One process counts them itself (`localSlots`). The
 * workers of a multi-process server accept their own connections (a client's connections of one
 * moment may all land on one worker, or spread over several): each worker admits within its
 * allotment of the client's slots (`slot-shares.ts`) and the primary keeps the allotments within the
 * limit (`slot-ledger.ts`, with a `SharedSlots` of what each worker holds), so the limit can never be
 * exceeded across workers, and one worker may use a client's whole limit.
 */

/** A client's connection slots, server-wide. */
export interface ClientSlots {
  /** Takes one of `client`'s slots: true when taken (admit), false when all are held (refuse). */
  take(client: string): boolean | Promise<boolean>;
  /** Gives back a slot `take` granted. */
  give(client: string): void;
}

/** The counts themselves: slots held per client, against one limit. */
export class SlotCounts {
  private readonly held = new Map<string, number>();

  constructor(readonly limit: number) {}

  take(client: string): boolean {
    const n = this.held.get(client) ?? 0;
    if (n >= this.limit) return false;
    this.held.set(client, n + 1);
    return true;
  }

  give(client: string, count = 1): void {
    const left = (this.held.get(client) ?? 0) - count;
    if (left <= 0) this.held.delete(client);
    else this.held.set(client, left);
  }

  /** Slots `client` holds now. */
  heldBy(client: string): number {
    return this.held.get(client) ?? 0;
  }

  /** Clients holding a slot now (memory follows open connections). */
  get clients(): number {
    return this.held.size;
  }
}

/** The slots of a single-process server. */
export function localSlots(limit: number): ClientSlots {
  const counts = new SlotCounts(limit);
  return { take: (client) => counts.take(client), give: (client) => counts.give(client) };
}

/**
 * The primary's counts for its workers: what each worker holds is remembered too, so the slots of a
 * worker that dies are given back with it.
 */
export class SharedSlots<W> {
  private readonly counts: SlotCounts;
  private readonly byWorker = new Map<W, Map<string, number>>();

  constructor(limit: number) {
    this.counts = new SlotCounts(limit);
  }

  take(worker: W, client: string): boolean {
    if (!this.counts.take(client)) return false;
    let mine = this.byWorker.get(worker);
    if (mine === undefined) this.byWorker.set(worker, (mine = new Map()));
    mine.set(client, (mine.get(client) ?? 0) + 1);
    return true;
  }

  give(worker: W, client: string): void {
    const mine = this.byWorker.get(worker);
    const n = mine?.get(client) ?? 0;
    // A slot the worker does not hold (a give after its exit was handled) changes nothing.
    if (mine === undefined || n === 0) return;
    if (n === 1) mine.delete(client);
    else mine.set(client, n - 1);
    this.counts.give(client);
  }

  /** Gives back every slot `worker` holds (it exited). */
  release(worker: W): void {
    const mine = this.byWorker.get(worker);
    this.byWorker.delete(worker);
    if (mine !== undefined) for (const [client, n] of mine) this.counts.give(client, n);
  }

  heldBy(client: string): number {
    return this.counts.heldBy(client);
  }

  /** Slots of `client` that `worker` holds. */
  heldByWorker(worker: W, client: string): number {
    return this.byWorker.get(worker)?.get(client) ?? 0;
  }
}
