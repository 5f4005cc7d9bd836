/**
 * Probes under load, one in flight at a time, a new one every `intervalMs` (or as soon as a slow
 * answer returns): foreign probes are PINGs on a second connection while the transfer runs (their
 * round trip includes the queueing delay the transfer causes in the network, bufferbloat); self
 * probes are PINGs on the loaded connections themselves (`selfProbe`, capability 'self-ping'),
 * which also wait behind the transfer's own data in the sender's buffers.
 */
import { performance } from 'node:perf_hooks';
import type { Session } from './session.js';

/**
 * One probe's round trip in ms as the process saw it (`rttMs`, the draft's, behind RPM) and as the
 * network's (`networkRttMs`: the kernels' timing with capability 'kernel-rtt', else `rttMs`, behind
 * loaded RTT); null when none could be sent now (skipped, not a failure).
 */
export interface ProbeRtt {
  rttMs: number;
  networkRttMs: number;
}
export type Probe = (timeoutMs: number) => Promise<ProbeRtt | null>;

/** Foreign probes: PINGs on `session`, a connection without a transfer. */
export function foreignProbe(session: Session): Probe {
  return async (timeoutMs) => {
    const { rttMs, kernelRttMs } = await session.ping(timeoutMs);
    return { rttMs, networkRttMs: kernelRttMs ?? rttMs };
  };
}

/** Self probes over the loaded connections, taking them in turn (the draft picks one at random each time). */
export function selfProbe(sessions: readonly Session[]): Probe {
  let next = 0;
  return async (timeoutMs) => {
    const rttMs = await sessions[next++ % sessions.length]!.selfPing(timeoutMs);
    return rttMs === null ? null : { rttMs, networkRttMs: rttMs };
  };
}

/**
 * 50 ms: at 10 Mbit/s BBR's queue swings within a few hundred ms, and PINGs every 100 ms caught too
 * few moments of it (loaded RTT 0.6-0.8x the tbf-implied queue delay in bench/accuracy).
 */
export const DEFAULT_LOADED_PING_INTERVAL_MS = 50;

export class LoadedPinger {
  private readonly rttsMs: number[] = [];
  /** Each probe's `networkRttMs`, in the order of `rttsMs` (read after stop()). */
  readonly networkRttsMs: number[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  failure: unknown;

  constructor(
    private readonly probe: Probe,
    private readonly intervalMs = DEFAULT_LOADED_PING_INTERVAL_MS,
    private readonly timeoutMs = 10_000,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops sending; waits for the PING in flight (sent under load, so it counts); returns all RTTs. */
  async stop(): Promise<number[]> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await this.running;
    return this.rttsMs;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const sentAtMs = performance.now();
      try {
        const rtt = await this.probe(this.timeoutMs);
        if (rtt !== null) {
          this.rttsMs.push(rtt.rttMs);
          this.networkRttsMs.push(rtt.networkRttMs);
        }
      } catch (err) {
        this.failure = err;
        return;
      }
      const waitMs = this.intervalMs - (performance.now() - sentAtMs);
      if (waitMs > 0 && !this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, waitMs);
        });
        this.wake = undefined;
      }
    }
  }
}
