import { ErrorCodes, NetprobeError, StorageError } from '../errors.js';
import { type Result, type StoredResult, implausibility } from '../protocol/result.js';
import type { InsertOutcome, ResultSink, TransferRecord } from '../store/types.js';
import type { LoadAnnotation, LoadTracker } from './load.js';

interface Pending {
  rows: StoredResult[];
  resolve: (outcome: InsertOutcome) => void;
  reject: (err: unknown) => void;
}

/** Where a connection hands its results and transfer records (a worker's goes to its primary). */
export interface Committer {
  /** Resolves once the rows are durably stored (an ACK may then be sent). */
  submit(rows: StoredResult[]): Promise<InsertOutcome>;
  recordTransfer(record: TransferRecord): void;
  /** Resolves when everything submitted so far has been written (or has failed). */
  drain(): Promise<void>;
}

/**
 * Group commit: every REPORT that arrives while a commit is being prepared joins the same
 * transaction. A REPORT's promise resolves only after that transaction committed, so an ACK
 * always means "durably stored".
 */
export class GroupCommitter implements Committer {
  private queue: Pending[] = [];
  private transfers: TransferRecord[] = [];
  private scheduled = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly store: ResultSink) {}

  submit(rows: StoredResult[]): Promise<InsertOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.schedule();
    });
  }

  /** Transfer records are written with the next commit (they are not acknowledged to anyone). */
  recordTransfer(record: TransferRecord): void {
    this.transfers.push(record);
    this.schedule();
  }

  /** Resolves when everything submitted so far has been written (or has failed). */
  async drain(): Promise<void> {
    while (this.scheduled || this.queue.length > 0 || this.transfers.length > 0) {
      await this.inFlight;
      await new Promise((r) => setImmediate(r));
    }
    await this.inFlight;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.inFlight = this.inFlight.then(() => this.commit());
    });
  }

  private async commit(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    const transfers = this.transfers;
    this.queue = [];
    this.transfers = [];
    if (transfers.length > 0) {
      // Losing transfer records must never block results: they are server-side context only.
      await this.store.insertTransfers(transfers).catch(() => undefined);
    }
    if (batch.length === 0) return;
    try {
      const outcomes = await this.store.insertResults(batch.map((p) => p.rows));
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    } catch (err) {
      const failure = err instanceof StorageError ? err : new StorageError('storing results failed', { cause: err });
      for (const p of batch) p.reject(failure);
    }
  }
}

/**
 * The simulator's identity: one certificate (common name `reporter`) reports the results of many
 * virtual clients, each named in its results and all named with `clientPrefix`. It exists only in
 * a server started in-process with it (the simulator's); no configuration file or flag sets it, so
 * a deployed server never lets one certificate speak for another client.
 */
export interface ReportDelegation {
  reporter: string;
  clientPrefix: string;
  /** The simulated server's load for a virtual client's result (the model's, not this process's). */
  annotate?: (client: string, startedAtMs: number) => LoadAnnotation | undefined;
}

/** Whom a result is stored under: its certificate's name, or for the delegate, the virtual client it names. */
function resultClient(certName: string, r: Result, delegation: ReportDelegation | undefined): string {
  if (delegation !== undefined && certName === delegation.reporter) {
    if (r.client === undefined || !r.client.startsWith(delegation.clientPrefix) || r.client.length === delegation.clientPrefix.length) {
      throw new NetprobeError(
        ErrorCodes.identity,
        `result ${r.id} from the simulator's reporter '${certName}' must name a virtual client '${delegation.clientPrefix}…' (it names '${r.client ?? ''}')`,
      );
    }
    return r.client;
  }
  if (r.client !== undefined && r.client !== certName) {
    throw new NetprobeError(ErrorCodes.identity, `result ${r.id} names client '${r.client}' but the certificate says '${certName}'`);
  }
  return certName;
}

/**
 * Turns a client's validated results into stored rows: the identity comes from its certificate
 * (or, for the simulator's delegate, from the virtual client each result names), the server adds
 * receive time and its own load at the time. Throws on a result that claims another client or
 * cannot be true (implausibility).
 */
export function prepareResults(
  certName: string,
  results: readonly Result[],
  load: LoadTracker,
  nowMs: number,
  delegation?: ReportDelegation,
): StoredResult[] {
  const receivedAt = new Date(nowMs).toISOString();
  return results.map((r) => {
    const clientName = resultClient(certName, r, delegation);
    const why = implausibility(r, nowMs);
    if (why !== undefined) throw new NetprobeError(ErrorCodes.badPayload, `result ${r.id} ${why}`);
    const startedAtMs = Date.parse(r.startedAt);
    const annotation =
      (clientName !== certName ? delegation?.annotate?.(clientName, startedAtMs) : undefined) ?? load.annotate(clientName, startedAtMs);
    return { ...r, client: clientName, receivedAt, ...annotation };
  });
}
