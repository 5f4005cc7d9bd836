/**
 * Foreign probes (loaded-rtt.ts) from a worker thread: the loaded-RTT connection (its TLS session,
 * HELLO and PINGs) lives on an event loop of its own, so a PONG is timed when it arrives, not after
 * the main thread's current task. During a 1 Gbit/s download the main thread decrypts and hashes
 * the payload, and waiting for it added ~0.6 ms to every round trip (loaded RTT 1.56× the delay the
 * tbf queue implied in bench/accuracy). A `Lookup` cannot cross to a thread: with one injected,
 * `sameThreadProber` probes from the main thread as before.
 */
import { Worker } from 'node:worker_threads';
import { ErrorCodes, NetprobeError } from '../errors.js';
import { type ConnectOptions, TlsSessions } from './connect.js';
import { LoadedPinger, foreignProbe } from './loaded-rtt.js';
import type { Session } from './session.js';

/** Foreign probes over one loaded-RTT connection, started and stopped once per transfer attempt. */
export interface ForeignProber {
  /** Begins probing (the transfer's load begins). */
  start(): void;
  /** Stops; resolves with the round trips (ms) since start (none when it never started). */
  stop(): Promise<number[]>;
  close(): void;
}

/** What the worker needs (structured-cloneable: PEM as bytes, the TLS ticket to resume, no functions). */
export interface ProberJob {
  endpoint: ConnectOptions['endpoint'];
  tls: { ca: Uint8Array; cert: Uint8Array; key: Uint8Array };
  minVersion: ConnectOptions['minVersion'];
  timeouts: ConnectOptions['timeouts'];
  sessionKey: string;
  ticket: Uint8Array | undefined;
  intervalMs: number;
  requestTimeoutMs: number;
}

export type ToProber =
  | { type: 'open'; id: number; job: ProberJob }
  | { type: 'start'; id: number }
  | { type: 'stop'; id: number }
  | { type: 'close'; id: number };
export type FromProber =
  | { type: 'ready'; id: number }
  | { type: 'failed'; id: number; code: string; message: string }
  | { type: 'rtts'; id: number; rttsMs: number[] };

export interface ProberOptions extends Pick<ConnectOptions, 'endpoint' | 'tls' | 'minVersion' | 'timeouts' | 'sessions'> {
  intervalMs: number;
  requestTimeoutMs: number;
}

/** What waits on the thread for one prober: its connection, then each stop's round trips. */
interface Waiting {
  opened?: { resolve(): void; reject(err: Error): void } | undefined;
  stops: ((rttsMs: number[]) => void)[];
}

/**
 * The process's one prober thread, started with the first prober (a thread costs 50–500 ms to start,
 * more than a short measurement), unref'd so that it never keeps the process alive. When it dies,
 * what waits on it fails (opens) or gets no round trips (stops), and the next prober starts another.
 */
class ProberThread {
  private readonly worker = startWorker();
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  dead = false;

  constructor() {
    this.worker.on('message', (message: FromProber) => this.receive(message));
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', (code) => this.die(new Error(`exited (${code})`)));
    // After the listeners: a 'message' listener refs the thread again.
    this.worker.unref();
  }

  async open(job: ProberJob): Promise<number> {
    const id = this.nextId++;
    const waiting: Waiting = { stops: [] };
    this.waiting.set(id, waiting);
    await new Promise<void>((resolve, reject) => {
      waiting.opened = { resolve, reject };
      this.worker.postMessage({ type: 'open', id, job } satisfies ToProber);
    });
    return id;
  }

  send(message: ToProber): void {
    if (!this.dead) this.worker.postMessage(message);
    if (message.type === 'close') this.waiting.delete(message.id);
  }

  stop(id: number): Promise<number[]> {
    const waiting = this.waiting.get(id);
    if (this.dead || waiting === undefined) return Promise.resolve([]);
    return new Promise((resolve) => {
      waiting.stops.push(resolve);
      this.send({ type: 'stop', id });
    });
  }

  private receive(message: FromProber): void {
    const waiting = this.waiting.get(message.id);
    if (waiting === undefined) return;
    switch (message.type) {
      case 'ready':
        waiting.opened?.resolve();
        break;
      case 'failed':
        this.waiting.delete(message.id);
        waiting.opened?.reject(new NetprobeError(message.code, message.message));
        break;
      case 'rtts':
        waiting.stops.shift()?.(message.rttsMs);
        break;
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (thread === this) thread = undefined;
    for (const waiting of this.waiting.values()) {
      waiting.opened?.reject(new NetprobeError(ErrorCodes.internal, `the loaded-RTT thread failed: ${err.message}`, { cause: err }));
      for (const resolve of waiting.stops.splice(0)) resolve([]);
    }
    this.waiting.clear();
  }
}

let thread: ProberThread | undefined;

/** Opens a loaded-RTT connection on the prober thread; rejects with its error (code kept) when it cannot connect. */
export async function openThreadProber(options: ProberOptions): Promise<ForeignProber> {
  const sessionKey = TlsSessions.key(options.endpoint, options.minVersion);
  const job: ProberJob = {
    endpoint: options.endpoint,
    tls: options.tls,
    minVersion: options.minVersion,
    timeouts: options.timeouts,
    sessionKey,
    ticket: options.sessions?.get(sessionKey),
    intervalMs: options.intervalMs,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  const on = (thread ??= new ProberThread());
  const id = await on.open(job);
  return {
    start: () => on.send({ type: 'start', id }),
    stop: () => on.stop(id),
    close: () => on.send({ type: 'close', id }),
  };
}

/** Foreign probes from this thread over `session` (an injected Lookup, which a thread cannot use). */
export function sameThreadProber(session: Session, intervalMs: number, requestTimeoutMs: number): ForeignProber {
  let pinger: LoadedPinger | undefined;
  return {
    start: () => {
      pinger ??= new LoadedPinger(foreignProbe(session), intervalMs, requestTimeoutMs);
      pinger.start();
    },
    stop: async () => {
      const rttsMs = (await pinger?.stop()) ?? [];
      pinger = undefined;
      return rttsMs;
    },
    close: () => session.close(),
  };
}

/**
 * prober-worker.js when built. Run from source under tsx (benches, scripts), a worker does not get
 * tsx's loader from --import, so a small bootstrap registers it first; the test runner's loader
 * (test/harness/ts-register.mjs) is inherited through execArgv and serves either way.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./prober-worker.js', import.meta.url));
  const entry = JSON.stringify(new URL('./prober-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true });
}
