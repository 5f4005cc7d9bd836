/**
 * `netprobe plan`: if N clients measure a file of S every T on a link of C, how much of the link do
 * the measurements themselves take at the busiest hour, and how much do they slow each other down?
 * Answered by the model engine (no server, no store): the fleet's measurements alone on a link of
 * constant capacity C (no background traffic, no outages), the clients' activity following the
 * profile. A download's speed relative to undisturbed is the time the same download takes alone on
 * the idle link (slow start over its base RTT, then the lower of its access cap and C) divided by
 * its transfer time in the run: 1 = the other measurements did not slow it down. Pure.
 */
import { DAY_MS, HOUR_MS, SimClock } from './clock.js';
import { ModelEngine, type ModelMeasurement } from './model/engine.js';
import { aloneTransferMs } from './model/measurement.js';
import { DEFAULT_NETWORK } from './model/network.js';
import { planFleet } from './plan.js';
import type { Profile } from './profile.js';

/** A download slower than this share of its speed alone counts as disturbed. */
export const DISTURBED_BELOW = 0.9;

export interface LoadPlanOptions {
  clients: number;
  sizeBytes: number;
  /** Mean time between two measurements of a client at full activity. */
  everyMs: number;
  linkMbps: number;
  /** Its activity says which share of the clients measure, hour by hour; its capacity is ignored. */
  profile: Profile;
  spanMs: number;
  seed: number;
  capMinMbps?: number;
  capMaxMbps?: number;
}

export interface LoadPlanHour {
  /** Hour of day, UTC. */
  hour: number;
  /** Measurements per day started in this hour (mean over the span). */
  measurementsPerDay: number;
  /**
   * Mean Mbit/s of the downloads started in this hour (their bytes over the hour; slow-start rounds
   * included, which the engine's fluid load leaves out).
   */
  measurementMbps: number;
  /** measurementMbps / the link's capacity (above 1: more than the link can carry). */
  linkShare: number;
  /** Median download's speed relative to the same download alone on the link (1 = undisturbed); null without downloads. */
  medianSpeedToAlone: number | null;
  /** Share of the downloads slower than DISTURBED_BELOW of their undisturbed speed. */
  disturbedShare: number;
  /** Mean queueing delay on the link, ms. */
  queueMs: number;
}

export interface LoadPlan {
  hours: LoadPlanHour[];
  /** The hour of day with the most measurements. */
  busiest: LoadPlanHour;
  /** The hour of day where the measurements took the largest share of the link. */
  heaviest: LoadPlanHour;
  measurements: number;
  days: number;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

export function planLoad(o: LoadPlanOptions): LoadPlan {
  const profile: Profile = {
    ...o.profile,
    capacity: Array<number>(24).fill(1),
    background: Array<number>(24).fill(0),
    outages: [],
    incidents: [],
  };
  const startMs = 0;
  const plans = planFleet(profile, {
    clients: o.clients,
    seed: o.seed,
    startMs,
    spanMs: o.spanMs,
    peakRatePerHour: HOUR_MS / o.everyMs,
    capMinMbps: o.capMinMbps ?? 10,
    capMaxMbps: o.capMaxMbps ?? 500,
  });
  // The server never limits: the question is about the link.
  const params = { ...DEFAULT_NETWORK, sharedMbps: o.linkMbps, serverMbps: 1_000 * o.linkMbps };
  const engine = new ModelEngine({ profile, params, plans, startMs, spanMs: o.spanMs, sizeBytes: o.sizeBytes, seed: o.seed });
  const speeds: number[][] = Array.from({ length: 24 }, () => []);
  const take = (measurements: ModelMeasurement[]) => {
    for (const m of measurements) {
      if (m.transferMs === null || m.error !== null) continue;
      const plan = plans[m.client]!;
      const alone = aloneTransferMs(o.sizeBytes, Math.min(plan.capMbps, o.linkMbps), plan.baseRttMs, params.initialWindowBytes);
      speeds[SimClock.hourOf(m.startedAtMs)]!.push(m.transferMs > 0 ? Math.min(1, alone / m.transferMs) : 1);
    }
  };
  for (let t = startMs + HOUR_MS; t < startMs + o.spanMs; t += HOUR_MS) take(engine.advanceTo(t));
  take(engine.advanceTo(Infinity));

  const folded = Array.from({ length: 24 }, (_, h) => ({
    ms: 0,
    measurements: 0,
    bytes: 0,
    capacityMbpsMs: 0,
    queueMsMs: 0,
    speeds: speeds[h]!,
  }));
  engine.hours.forEach((a, i) => {
    const f = folded[SimClock.hourOf(startMs + i * HOUR_MS)]!;
    f.ms += HOUR_MS;
    f.measurements += a.measurements;
    f.bytes += a.offeredMeasurementBytes;
    f.capacityMbpsMs += a.capacityMbpsMs;
    f.queueMsMs += a.queueMsMs;
  });
  const days = o.spanMs / DAY_MS;
  const hours = folded.map((f, hour): LoadPlanHour => {
    const ms = f.ms || 1;
    const measurementMbps = (f.bytes * 8) / 1e6 / (ms / 1000);
    const m = median(f.speeds);
    return {
      hour,
      measurementsPerDay: round(f.measurements / days, 1),
      measurementMbps: round(measurementMbps, 3),
      linkShare: round(measurementMbps / o.linkMbps),
      medianSpeedToAlone: m === null ? null : round(m),
      disturbedShare: f.speeds.length === 0 ? 0 : round(f.speeds.filter((x) => x < DISTURBED_BELOW).length / f.speeds.length),
      queueMs: round(f.queueMsMs / ms, 2),
    };
  });
  const busiest = hours.reduce((b, h) => (h.measurementsPerDay > b.measurementsPerDay ? h : b));
  const heaviest = hours.reduce((b, h) => (h.measurementMbps > b.measurementMbps ? h : b));
  return { hours, busiest, heaviest, measurements: engine.made, days };
}
