/**
 * The fluid part of the model: the network's conditions now, the transfers in it, their max-min fair
 * rates (share.ts), queueing delays and RTTs, and how time moves every transfer's bytes and the
 * hour's integrals between two events. Pure.
 */
import type { Conditions, NetworkParams } from './network.js';
import { queueDelayMs } from './network.js';
import { type FlowClass, type Sharing, maxMinShare } from './share.js';
import type { Bottleneck, HourAccumulator } from './truth.js';

export const SHARED = 0;
export const SERVER = 1;

export type Phase = 'setup' | 'startup' | 'fluid';

export interface Active {
  client: number;
  startedAtMs: number;
  phase: Phase;
  /** End of setup (first byte) or of slow start. */
  nextAtMs: number;
  connectMs: number;
  tlsMs: number;
  idleRttMs: number;
  responseMs: number;
  rttMs: number;
  firstByteAtMs: number;
  remainingBytes: number;
  /** Startup only: the transfer ends with slow start. */
  endsInStartup: boolean;
  startupBytes: number;
  rateMbps: number;
  capMbps: number;
  /** Rate timeline since the first byte: [atMs, rateMbps] pairs. */
  timeline: number[];
  queueMsMs: number;
  serverLoadMbpsMs: number;
  inTransferMs: number;
  bottleneckMs: Record<Bottleneck, number>;
  serverConcurrent: number;
}

export class Fluid {
  sharing: Sharing;
  /** Measurements past their first byte (slow start or fluid), in start order. */
  readonly inTransfer: Active[] = [];

  constructor(
    private readonly params: NetworkParams,
    public conditions: Conditions,
  ) {
    this.sharing = maxMinShare(this.links(), this.classes());
  }

  /** Moves time by `dt` ms: fluid transfers progress, the hour's integrals grow. */
  integrate(dt: number, hour: HourAccumulator | undefined): void {
    const s = this.sharing;
    const c = this.conditions;
    const sharedQueueMs = queueDelayMs(s.saturated[SHARED] === 1, s.loadMbps[SHARED]!, c.sharedCapacityMbps, this.params.sharedBufferMs);
    const serverQueueMs = queueDelayMs(s.saturated[SERVER] === 1, s.loadMbps[SERVER]!, c.serverCapacityMbps, this.params.serverBufferMs);
    let measurementMbps = 0;
    for (const a of this.inTransfer) {
      a.inTransferMs += dt;
      a.serverLoadMbpsMs += s.loadMbps[SERVER]! * dt;
      let queue = sharedQueueMs + serverQueueMs;
      if (a.phase === 'fluid') {
        a.remainingBytes = Math.max(0, a.remainingBytes - (a.rateMbps * 1000 * dt) / 8);
        measurementMbps += a.rateMbps;
        const b = this.bottleneckOf(a);
        a.bottleneckMs[b] += dt;
        if (b === 'access') queue += this.params.accessBufferMs;
      }
      a.queueMsMs += queue * dt;
    }
    if (hour) {
      hour.capacityMbpsMs += c.sharedCapacityMbps * dt;
      hour.sharedLoadMbpsMs += s.loadMbps[SHARED]! * dt;
      hour.measurementLoadMbpsMs += measurementMbps * dt;
      hour.backgroundOfferedMbpsMs += c.backgroundFlows * this.params.backgroundFlowMbps * dt;
      hour.queueMsMs += sharedQueueMs * dt;
    }
  }

  private bottleneckOf(a: Active): Bottleneck {
    const k = this.inTransfer.filter((x) => x.phase === 'fluid').indexOf(a);
    const l = k < 0 ? -1 : this.sharing.bottleneck[2 + k]!;
    return l === SHARED ? 'shared' : l === SERVER ? 'server' : 'access';
  }

  private classes(extra?: Active): FlowClass[] {
    const p = this.params;
    const c = this.conditions;
    const classes: FlowClass[] = [
      { path: [SHARED], count: c.outage ? 0 : c.backgroundFlows, capMbps: p.backgroundFlowMbps },
      { path: [SERVER], count: c.outage ? 0 : c.serverOtherTransfers, capMbps: p.serverOtherFlowMbps },
    ];
    for (const a of this.inTransfer) if (a.phase === 'fluid') classes.push({ path: [SHARED, SERVER], count: 1, capMbps: a.capMbps });
    if (extra) classes.push({ path: [SHARED, SERVER], count: 1, capMbps: extra.capMbps });
    return classes;
  }

  private links() {
    return [{ capacityMbps: this.conditions.sharedCapacityMbps }, { capacityMbps: this.conditions.serverCapacityMbps }];
  }

  /** Recomputes every fluid transfer's rate and notes a change in its timeline at `nowMs`. */
  reshare(nowMs: number): void {
    this.sharing = maxMinShare(this.links(), this.classes());
    let k = 2;
    for (const a of this.inTransfer) {
      if (a.phase !== 'fluid') continue;
      const rate = this.sharing.rateMbps[k++]!;
      if (rate !== a.rateMbps) {
        a.rateMbps = rate;
        a.timeline.push(nowMs, rate);
      }
    }
  }

  /** The rate `a` would get if it joined the fluid now: what its slow start ramps toward. */
  trialRateMbps(a: Active): number {
    const trial = maxMinShare(this.links(), this.classes(a));
    return trial.rateMbps[trial.rateMbps.length - 1]!;
  }

  /** Base RTT plus the queueing delay of the shared link and the server now. */
  rttMs(baseRttMs: number): number {
    const s = this.sharing;
    const c = this.conditions;
    const p = this.params;
    return (
      baseRttMs +
      queueDelayMs(s.saturated[SHARED] === 1, s.loadMbps[SHARED]!, c.sharedCapacityMbps, p.sharedBufferMs) +
      queueDelayMs(s.saturated[SERVER] === 1, s.loadMbps[SERVER]!, c.serverCapacityMbps, p.serverBufferMs)
    );
  }
}
