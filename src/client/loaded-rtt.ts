/**
 * Loaded RTT: PINGs on a second connection while the download runs. Their round trip includes the
 * queueing delay the transfer causes in the network (bufferbloat). One PING in flight at a time,
 * a new one every `intervalMs` (or as soon as a slow PONG returns).
 */
import { performance } from 'node:perf_hooks';
import type { Session } from './session.js';

/**
 * 50 ms: at 10 Mbit/s BBR's queue swings within a few hundred ms, and PINGs every 100 ms caught too
 * few moments of it (loaded RTT 0.6-0.8x the tbf-implied queue delay in bench/accuracy).
 */
export const DEFAULT_LOADED_PING_INTERVAL_MS = 50;

export class LoadedPinger {
  private readonly rttsMs: number[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  failure: unknown;

  constructor(
    private readonly session: Session,
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
        this.rttsMs.push((await this.session.ping(this.timeoutMs)).rttMs);
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
