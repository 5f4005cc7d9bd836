import { HOUR_MS, SimClock } from './clock.js';
import type { Profile } from './profile.js';
import { exponential, logUniform, seededRandom } from './random.js';

export interface VirtualClientPlan {
  name: string;
  /** Access-link cap, Mbit/s. */
  capMbps: number;
  /** Round-trip time to the server with empty queues (model engine). */
  baseRttMs: number;
  /** Simulated start times of its measurements, ascending. */
  measurementsAtMs: number[];
}

export interface SimPlanOptions {
  clients: number;
  seed: number;
  /** Simulated span of the run. */
  startMs: number;
  spanMs: number;
  /** Measurements per client per simulated hour at full activity. */
  peakRatePerHour: number;
  capMinMbps: number;
  capMaxMbps: number;
  /** Base round-trip times are drawn log-uniform in this range (default 5–100 ms). */
  rttMinMs?: number;
  rttMaxMs?: number;
}

/**
 * Everything random about a run, decided up front from the seed: each client's cap and the
 * simulated times it measures. Measurement times are a Poisson process whose rate follows the
 * profile's activity hour by hour (thinning), so more clients measure in busy hours.
 */
export function planFleet(profile: Profile, o: SimPlanOptions): VirtualClientPlan[] {
  const random = seededRandom(o.seed);
  const width = String(o.clients).length;
  const meanGapMs = HOUR_MS / o.peakRatePerHour;
  return Array.from({ length: o.clients }, (_, i) => {
    const capMbps = Math.round(logUniform(random, o.capMinMbps, o.capMaxMbps) * 10) / 10;
    const baseRttMs = Math.round(logUniform(random, o.rttMinMs ?? 5, o.rttMaxMs ?? 100) * 10) / 10;
    const measurementsAtMs: number[] = [];
    let t = o.startMs;
    for (;;) {
      t += exponential(random, meanGapMs);
      if (t >= o.startMs + o.spanMs) break;
      if (random() < profile.activity[SimClock.hourOf(t)]!) measurementsAtMs.push(Math.floor(t));
    }
    return { name: `sim-${String(i + 1).padStart(width, '0')}`, capMbps, baseRttMs, measurementsAtMs };
  });
}

/** True when simulated time `simMs` falls in one of the profile's outage windows. */
export function inOutage(profile: Profile, startMs: number, simMs: number): boolean {
  const hours = (simMs - startMs) / HOUR_MS;
  return profile.outages.some((o) => hours >= o.startHour && hours < o.endHour);
}
