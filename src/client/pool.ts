/**
 * Failover between servers: the configured order is the preference; a server that did not answer
 * is skipped until its retry time (exponential back-off with jitter), then tried again.
 */
import { type Endpoint, formatEndpoint } from './endpoint.js';

export interface ServerPoolOptions {
  /** Monotonic ms clock (default performance.now). */
  now?: () => number;
  random?: () => number;
  /** First wait after a server stopped answering; doubles per further failure up to retryMaxMs. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface ServerState {
  endpoint: Endpoint;
  failures: number;
  retryAtMs: number;
}

export const DEFAULT_SERVER_RETRY_BASE_MS = 30_000;
export const DEFAULT_SERVER_RETRY_MAX_MS = 600_000;

export class ServerPool {
  private readonly states: ServerState[];
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;

  constructor(servers: readonly Endpoint[], options: ServerPoolOptions = {}) {
    if (servers.length === 0) throw new RangeError('a server pool needs at least one server');
    this.states = servers.map((endpoint) => ({ endpoint, failures: 0, retryAtMs: 0 }));
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_SERVER_RETRY_BASE_MS;
    this.retryMaxMs = options.retryMaxMs ?? DEFAULT_SERVER_RETRY_MAX_MS;
  }

  get servers(): Endpoint[] {
    return this.states.map((s) => s.endpoint);
  }

  /**
   * Servers to try now, in preference order, without those waiting for their retry time. When every
   * server is waiting, all of them, soonest retry first: a run always tries somewhere.
   */
  candidates(): Endpoint[] {
    const now = this.now();
    const ready = this.states.filter((s) => s.retryAtMs <= now);
    if (ready.length > 0) return ready.map((s) => s.endpoint);
    return [...this.states].sort((a, b) => a.retryAtMs - b.retryAtMs).map((s) => s.endpoint);
  }

  /** The server did not answer: skip it for a while. Returns the wait in ms. */
  markDown(endpoint: Endpoint): number {
    const state = this.state(endpoint);
    state.failures++;
    const ceilingMs = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(state.failures - 1, 30));
    const waitMs = ceilingMs * (0.5 + 0.5 * this.random());
    state.retryAtMs = this.now() + waitMs;
    return waitMs;
  }

  markUp(endpoint: Endpoint): void {
    const state = this.state(endpoint);
    state.failures = 0;
    state.retryAtMs = 0;
  }

  isDown(endpoint: Endpoint): boolean {
    return this.state(endpoint).retryAtMs > this.now();
  }

  private state(endpoint: Endpoint): ServerState {
    const key = formatEndpoint(endpoint);
    const state = this.states.find((s) => formatEndpoint(s.endpoint) === key);
    if (state === undefined) throw new RangeError(`${key} is not in the server pool`);
    return state;
  }
}
