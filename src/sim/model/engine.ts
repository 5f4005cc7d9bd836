/**
 * The model engine: a discrete-event simulation of the fleet's measurements in simulated time.
 * Events: a planned measurement starts, its first byte arrives, its slow start ends, it finishes;
 * the hour turns (capacity and background change); an incident or outage begins or ends. Between
 * events every transfer in its fluid phase moves at its max-min fair rate. Pure (no I/O, no clock):
 * `advanceTo` returns the measurements finished before the given simulated time.
 */
import { HOUR_MS } from '../clock.js';
import type { VirtualClientPlan } from '../plan.js';
import type { Profile } from '../profile.js';
import { seededRandom } from '../random.js';
import { type Active, Fluid } from './fluid.js';
import { type ModelMeasurement, aloneTransferMs, failedMeasurement, samplesFrom } from './measurement.js';
import { type NetworkParams, changePoints, conditionsAt, roundsFor, slowStart } from './network.js';
import { type Bottleneck, type HourAccumulator, newHour } from './truth.js';

export type { ModelMeasurement } from './measurement.js';
/** Pings before the download, as the real client's default. */
const IDLE_PINGS = 3;

export interface EngineOptions {
  profile: Profile;
  params: NetworkParams;
  plans: readonly VirtualClientPlan[];
  startMs: number;
  spanMs: number;
  sizeBytes: number;
  seed: number;
}

export class ModelEngine {
  nowMs: number;
  readonly planned: number;
  made = 0;
  skipped = 0;
  deferredRuns = 0;
  readonly hours: HourAccumulator[];
  private readonly arrivalAt: Float64Array;
  private readonly arrivalClient: Int32Array;
  private nextArrival = 0;
  private readonly changes: number[];
  private nextChange = 0;
  private readonly fluid: Fluid;
  private readonly active: (Active | undefined)[];
  private readonly deferred: Uint8Array;
  /** Every measurement in progress (setup included). */
  private readonly running: Active[] = [];
  private readonly random: () => number;
  private readonly endMs: number;

  constructor(private readonly o: EngineOptions) {
    this.nowMs = o.startMs;
    this.endMs = o.startMs + o.spanMs;
    this.random = seededRandom(o.seed ^ 0x5eed);
    this.hours = Array.from({ length: Math.ceil(o.spanMs / HOUR_MS) }, newHour);
    const total = o.plans.reduce((n, p) => n + p.measurementsAtMs.length, 0);
    this.planned = total;
    const order = new Int32Array(total);
    const at = new Float64Array(total);
    const who = new Int32Array(total);
    let k = 0;
    o.plans.forEach((p, c) => {
      for (const t of p.measurementsAtMs) {
        at[k] = t;
        who[k] = c;
        order[k] = k;
        k++;
      }
    });
    order.sort((a, b) => at[a]! - at[b]! || a - b);
    this.arrivalAt = Float64Array.from(order, (i) => at[i]!);
    this.arrivalClient = Int32Array.from(order, (i) => who[i]!);
    this.changes = changePoints(o.profile, o.startMs, o.startMs, this.endMs);
    this.fluid = new Fluid(o.params, conditionsAt(o.profile, o.params, o.startMs, o.startMs));
    this.active = Array.from({ length: o.plans.length }, () => undefined);
    this.deferred = new Uint8Array(o.plans.length);
  }

  /** Measurements still running or waiting. */
  get busy(): number {
    return this.running.length;
  }

  /** Runs the simulation up to `untilMs` (exclusive) and returns the measurements finished meanwhile. */
  advanceTo(untilMs: number): ModelMeasurement[] {
    const out: ModelMeasurement[] = [];
    for (;;) {
      const tArrival = this.nextArrival < this.arrivalAt.length ? this.arrivalAt[this.nextArrival]! : Infinity;
      const tChange = this.nextChange < this.changes.length ? this.changes[this.nextChange]! : Infinity;
      let tPhase = Infinity;
      let phaseOf: Active | undefined;
      let tEnd = Infinity;
      let endOf: Active | undefined;
      let endIsTimeout = false;
      for (const a of this.running) {
        if (a.phase !== 'fluid') {
          if (a.nextAtMs < tPhase) [tPhase, phaseOf] = [a.nextAtMs, a];
        } else {
          const doneAt = a.rateMbps > 0 ? this.nowMs + (a.remainingBytes * 8) / (a.rateMbps * 1000) : Infinity;
          const timeoutAt = a.startedAtMs + this.o.params.transferTimeoutMs;
          const t = Math.min(doneAt, timeoutAt);
          if (t < tEnd) [tEnd, endOf, endIsTimeout] = [t, a, timeoutAt < doneAt];
        }
      }
      const t = Math.min(tArrival, tChange, tPhase, tEnd);
      if (t >= untilMs) {
        if (Number.isFinite(untilMs)) this.integrate(Math.max(this.nowMs, untilMs));
        return out;
      }
      this.integrate(Math.max(this.nowMs, t));
      if (t === tEnd && endOf) {
        // Float rounding of the time step leaves a crumb of bytes: the transfer is done.
        if (!endIsTimeout) endOf.remainingBytes = 0;
        out.push(this.finish(endOf));
      } else if (t === tPhase && phaseOf) {
        this.phaseEnd(phaseOf, out);
      } else if (t === tChange) {
        this.nextChange++;
        this.fluid.conditions = conditionsAt(this.o.profile, this.o.params, this.o.startMs, this.nowMs);
        if (this.fluid.conditions.outage) {
          for (const a of [...this.running])
            out.push(this.fail(a, 'NETPROBE_CONNECTION_CLOSED', 'the server went away during the measurement (simulated outage)'));
        }
        this.fluid.reshare(this.nowMs);
      } else {
        const client = this.arrivalClient[this.nextArrival++]!;
        this.arrive(client, out);
      }
      if (this.pendingFailures.length > 0) out.push(...this.pendingFailures.splice(0));
    }
  }

  private hourAt(ms: number): HourAccumulator | undefined {
    return this.hours[Math.floor((ms - this.o.startMs) / HOUR_MS)];
  }

  /** Moves time to `toMs`: fluid transfers progress, the hour's integrals grow. */
  private integrate(toMs: number): void {
    const dt = toMs - this.nowMs;
    if (dt <= 0) return;
    this.fluid.integrate(dt, this.hourAt(this.nowMs));
    this.nowMs = toMs;
  }

  private capOf(client: number): number {
    return this.o.plans[client]!.capMbps * (this.fluid.conditions.accessFactor.get(client + 1) ?? 1);
  }

  private currentRttMs(client: number): number {
    return this.fluid.rttMs(this.o.plans[client]!.baseRttMs);
  }

  private arrive(client: number, out: ModelMeasurement[]): void {
    if (this.active[client]) {
      // One user measures one thing at a time: the next runs right after; a third is skipped.
      if (this.deferred[client]) this.skipped++;
      else this.deferred[client] = 1;
      return;
    }
    this.start(client, out);
  }

  private start(client: number, out: ModelMeasurement[]): void {
    const hour = this.hourAt(this.nowMs);
    if (hour) {
      hour.measurements++;
      hour.offeredMeasurementBytes += this.o.sizeBytes;
    }
    if (this.fluid.conditions.outage) {
      this.made++;
      if (hour) hour.failed++;
      out.push(
        failedMeasurement(client, this.nowMs, this.o.sizeBytes, 'NETPROBE_CONNECT_REFUSED', 'connection refused (simulated outage)'),
      );
      return;
    }
    const jitter = () => 1 + 0.05 * this.random();
    const rtt = this.currentRttMs(client);
    // The server's CPU: slower handshakes and answers while it runs many other transfers.
    const cpuFactor = 1 + this.fluid.conditions.serverOtherTransfers / 50;
    const connectMs = rtt * jitter();
    const tlsMs = rtt * jitter() + this.o.params.serverHandshakeMs * cpuFactor;
    const idleRttMs = rtt * jitter();
    const responseMs = rtt * jitter() + 0.2 * cpuFactor;
    // connect, TLS, HELLO, idle pings, then GET_FILE until the first byte.
    const firstByteAtMs = this.nowMs + connectMs + tlsMs + rtt + IDLE_PINGS * idleRttMs + responseMs;
    const a: Active = {
      client,
      startedAtMs: this.nowMs,
      phase: 'setup',
      nextAtMs: firstByteAtMs,
      connectMs,
      tlsMs,
      idleRttMs,
      responseMs,
      rttMs: rtt,
      firstByteAtMs,
      remainingBytes: this.o.sizeBytes,
      endsInStartup: false,
      startupBytes: 0,
      rateMbps: 0,
      capMbps: this.capOf(client),
      timeline: [],
      queueMsMs: 0,
      serverLoadMbpsMs: 0,
      inTransferMs: 0,
      bottleneckMs: { access: 0, shared: 0, server: 0 },
      serverConcurrent: 0,
    };
    this.active[client] = a;
    this.running.push(a);
  }

  private phaseEnd(a: Active, out: ModelMeasurement[]): void {
    if (a.phase === 'setup') {
      a.rttMs = this.currentRttMs(a.client);
      a.serverConcurrent = this.fluid.inTransfer.length + Math.round(this.fluid.conditions.serverOtherTransfers);
      // The rate it would get once in the fluid: what slow start ramps toward.
      const targetMbps = this.fluid.trialRateMbps(a);
      const iw = this.o.params.initialWindowBytes;
      const ss = slowStart(targetMbps, a.rttMs, iw);
      this.fluid.inTransfer.push(a);
      a.phase = 'startup';
      if (a.remainingBytes <= ss.bytes || targetMbps <= 0) {
        const rounds = roundsFor(a.remainingBytes, iw);
        const lastRoundBytes = Math.min(a.remainingBytes, iw * 2 ** (rounds - 1));
        const serialiseMs = targetMbps > 0 ? (lastRoundBytes * 8) / (Math.min(targetMbps, a.capMbps) * 1000) : 0;
        a.endsInStartup = true;
        a.startupBytes = a.remainingBytes;
        a.nextAtMs = this.nowMs + (rounds - 1) * a.rttMs + serialiseMs;
      } else {
        a.startupBytes = ss.bytes;
        a.nextAtMs = this.nowMs + ss.rounds * a.rttMs;
      }
      const spanMs = a.nextAtMs - this.nowMs;
      a.timeline.push(this.nowMs, spanMs > 0 ? (a.startupBytes * 8) / (spanMs * 1000) : 0);
      return;
    }
    // Slow start over.
    a.remainingBytes = Math.max(0, a.remainingBytes - a.startupBytes);
    if (a.endsInStartup || a.remainingBytes <= 0) {
      out.push(this.finish(a));
      return;
    }
    a.phase = 'fluid';
    a.rateMbps = -1;
    this.fluid.reshare(this.nowMs);
  }

  private finish(a: Active): ModelMeasurement {
    const hour = this.hourAt(a.startedAtMs);
    const timedOut = a.remainingBytes > 0 && !a.endsInStartup;
    this.release(a);
    if (timedOut) {
      if (hour) hour.failed++;
      return failedMeasurement(
        a.client,
        a.startedAtMs,
        this.o.sizeBytes,
        'NETPROBE_TIMEOUT',
        'download did not finish in time (simulated)',
      );
    }
    const transferMs = this.nowMs - a.firstByteAtMs;
    if (hour) {
      const alone = aloneTransferMs(
        this.o.sizeBytes,
        this.o.plans[a.client]!.capMbps,
        this.o.plans[a.client]!.baseRttMs,
        this.o.params.initialWindowBytes,
      );
      hour.throughputToCap.push(transferMs > 0 ? Math.min(1, alone / transferMs) : 1);
      const b = (Object.keys(a.bottleneckMs) as Bottleneck[]).reduce(
        (best, k) => (a.bottleneckMs[k] > a.bottleneckMs[best] ? k : best),
        'access',
      );
      hour.bottlenecks[b]++;
    }
    const inMs = a.inTransferMs || 1;
    return {
      client: a.client,
      startedAtMs: a.startedAtMs,
      sizeBytes: this.o.sizeBytes,
      error: null,
      connectMs: a.connectMs,
      tlsMs: a.tlsMs,
      idleRttMs: a.idleRttMs,
      responseMs: a.responseMs,
      transferMs,
      bytes: this.o.sizeBytes,
      loadedRttMs: this.o.plans[a.client]!.baseRttMs + a.queueMsMs / inMs,
      samplesMbps: samplesFrom(a.timeline, a.firstByteAtMs, this.nowMs),
      serverConcurrentTransfers: a.serverConcurrent,
      serverOutboundMbps: a.serverLoadMbpsMs / inMs,
    };
  }

  private fail(a: Active, code: string, message: string): ModelMeasurement {
    const hour = this.hourAt(a.startedAtMs);
    if (hour) hour.failed++;
    this.release(a);
    const m = failedMeasurement(a.client, a.startedAtMs, this.o.sizeBytes, code, message);
    if (a.phase !== 'setup') Object.assign(m, { connectMs: a.connectMs, tlsMs: a.tlsMs, idleRttMs: a.idleRttMs, responseMs: a.responseMs });
    return m;
  }

  /** Frees the client; a deferred measurement of it starts now. */
  private release(a: Active): void {
    this.made++;
    const i = this.fluid.inTransfer.indexOf(a);
    if (i >= 0) this.fluid.inTransfer.splice(i, 1);
    this.running.splice(this.running.indexOf(a), 1);
    this.active[a.client] = undefined;
    if (a.phase === 'fluid') this.fluid.reshare(this.nowMs);
    if (this.deferred[a.client]) {
      this.deferred[a.client] = 0;
      this.deferredRuns++;
      const sink: ModelMeasurement[] = [];
      this.start(a.client, sink);
      this.pendingFailures.push(...sink);
    }
  }

  /** Failed results made while releasing (a deferred run during an outage), handed out by the next `drain`. */
  readonly pendingFailures: ModelMeasurement[] = [];
}
