/**
 * A worker's side of the per-client connection limit of a multi-process server (the primary's side:
 * `slot-ledger.ts`). Each worker holds an allotment of every client's slots: a share of the limit
 * (`floor(limit / workers)`, from the primary's `slotShare`; 0 until then) plus what it borrowed
 * (`slotGrant`) less what it lent (`slotRecall`). A connection within the allotment is admitted
 * here, with no message at all; beyond it the worker asks the primary (`slotAsk`), which grants
 * from the slots no worker holds or first recalls the unused slots the other workers hold, so a
 * client's burst landing on one worker still gets the whole limit. Borrowed slots go back
 * (`slotReturn`) as soon as they are unused. The primary counts every allotment as at least what the
 * worker has (it counts a grant when it sends it, a return when it receives it), and the allotments
 * never add up to more than the limit: the limit holds server-wide, exactly.
 */
import type { ClientSlots } from './slots.js';

/** Slot messages from a worker to the primary. */
export type SlotToPrimary =
  /** `n` more slots of `client` wanted, for connections waiting beyond the allotment (answered by `slotGrant`). */
  | { t: 'slotAsk'; client: string; n: number }
  /** `n` unused slots of `client` given back; `recalled`: the answer to a `slotRecall`. */
  | { t: 'slotReturn'; client: string; n: number; recalled: boolean };

/** Slot messages from the primary to a worker. */
export type SlotToWorker =
  /** The worker's share of every client's limit from now. */
  | { t: 'slotShare'; share: number }
  /** `n` more slots of `client` (0: none left); `answer`: to the worker's `slotAsk`, else slots it lent given back. */
  | { t: 'slotGrant'; client: string; n: number; answer: boolean }
  /** Give back the unused slots of `client` (another worker needs them). */
  | { t: 'slotRecall'; client: string };

interface Allotment {
  /** Admitted connections open now. */
  used: number;
  /** Allotment less the share: borrowed (> 0) or lent (< 0). */
  delta: number;
  /** Connections waiting for the primary's answer, in arrival order. */
  waiting: ((granted: boolean) => void)[];
  /** Slots asked for and not answered yet (one ask at a time per client). */
  asked: number;
}

export class ShareSlots implements ClientSlots {
  private share = 0;
  private gone = false;
  private readonly allotments = new Map<string, Allotment>();

  constructor(private readonly send: (message: SlotToPrimary) => void) {}

  take(client: string): boolean | Promise<boolean> {
    const a = this.allotment(client);
    if (a.waiting.length === 0 && a.used < this.share + a.delta) {
      a.used++;
      return true;
    }
    // The primary is gone and this worker exits: refused, as nothing could be stored either.
    if (this.gone) {
      this.forgetIfIdle(client, a);
      return false;
    }
    return new Promise((resolve) => {
      a.waiting.push(resolve);
      this.ask(client, a);
    });
  }

  give(client: string): void {
    const a = this.allotments.get(client);
    if (a === undefined || a.used === 0) return;
    const next = a.waiting.shift();
    // The slot passes to a connection waiting for one.
    if (next !== undefined) return next(true);
    a.used--;
    this.returnBorrowed(client, a);
    this.forgetIfIdle(client, a);
  }

  /** Handles a message of the primary's. */
  receive(message: SlotToWorker): void {
    switch (message.t) {
      case 'slotShare':
        this.share = message.share;
        for (const [client, a] of this.allotments) this.admitWaiting(client, a);
        return;
      case 'slotGrant':
        return this.granted(message.client, message.n, message.answer);
      case 'slotRecall':
        return this.recall(message.client);
    }
  }

  /** The primary will not answer any more: connections waiting for it are refused. */
  abandon(): void {
    this.gone = true;
    for (const [client, a] of this.allotments) {
      for (const resolve of a.waiting.splice(0)) resolve(false);
      a.asked = 0;
      this.forgetIfIdle(client, a);
    }
  }

  /** Clients with any state here (open connections, borrowed or lent slots, waiting connections). */
  get clients(): number {
    return this.allotments.size;
  }

  private allotment(client: string): Allotment {
    let a = this.allotments.get(client);
    if (a === undefined) this.allotments.set(client, (a = { used: 0, delta: 0, waiting: [], asked: 0 }));
    return a;
  }

  private ask(client: string, a: Allotment): void {
    if (a.asked > 0 || a.waiting.length === 0) return;
    a.asked = a.waiting.length;
    this.send({ t: 'slotAsk', client, n: a.asked });
  }

  private granted(client: string, n: number, answer: boolean): void {
    const a = this.allotment(client);
    a.delta += n;
    const asked = answer ? a.asked : 0;
    if (answer) a.asked = 0;
    this.admitWaiting(client, a);
    if (answer && n < asked) {
      // Fewer than asked after the other workers gave back what they did not use: the client holds
      // its whole limit server-wide.
      for (const resolve of a.waiting.splice(0)) resolve(false);
    }
    this.ask(client, a);
    this.returnBorrowed(client, a);
    this.forgetIfIdle(client, a);
  }

  private admitWaiting(client: string, a: Allotment): void {
    while (a.waiting.length > 0 && a.used < this.share + a.delta) {
      a.used++;
      a.waiting.shift()!(true);
    }
    this.forgetIfIdle(client, a);
  }

  private recall(client: string): void {
    const a = this.allotment(client);
    const unused = a.waiting.length > 0 ? 0 : Math.max(0, this.share + a.delta - a.used);
    a.delta -= unused;
    this.send({ t: 'slotReturn', client, n: unused, recalled: true });
    this.forgetIfIdle(client, a);
  }

  /** Borrowed slots go back once unused (while none waits), so the client's limit is free for any worker. */
  private returnBorrowed(client: string, a: Allotment): void {
    if (a.delta <= 0 || a.waiting.length > 0) return;
    const n = Math.min(a.delta, this.share + a.delta - a.used);
    if (n <= 0) return;
    a.delta -= n;
    this.send({ t: 'slotReturn', client, n, recalled: false });
  }

  private forgetIfIdle(client: string, a: Allotment): void {
    if (a.used === 0 && a.delta === 0 && a.asked === 0 && a.waiting.length === 0) this.allotments.delete(client);
  }
}
