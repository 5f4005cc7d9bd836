/**
 * What the model did, hour by hour: the ground truth the analyser is checked against. Accumulated
 * by the engine while it runs; summarised per hour of day (UTC). Pure.
 */
import { SimClock } from '../clock.js';

export type Bottleneck = 'access' | 'shared' | 'server';
export const BOTTLENECKS: readonly Bottleneck[] = ['access', 'shared', 'server'];

/** Accumulators of one simulated hour (integrals over time are in Mbit/s × ms). */
export interface HourAccumulator {
  capacityMbpsMs: number;
  sharedLoadMbpsMs: number;
  measurementLoadMbpsMs: number;
  backgroundOfferedMbpsMs: number;
  queueMsMs: number;
  measurements: number;
  failed: number;
  offeredMeasurementBytes: number;
  /**
   * Each successful measurement's speed relative to the same download alone on an idle network
   * (its transfer time alone / its transfer time), 0–1.
   */
  throughputToCap: number[];
  bottlenecks: Record<Bottleneck, number>;
}

export const newHour = (): HourAccumulator => ({
  capacityMbpsMs: 0,
  sharedLoadMbpsMs: 0,
  measurementLoadMbpsMs: 0,
  backgroundOfferedMbpsMs: 0,
  queueMsMs: 0,
  measurements: 0,
  failed: 0,
  offeredMeasurementBytes: 0,
  throughputToCap: [],
  bottlenecks: { access: 0, shared: 0, server: 0 },
});

export interface HourTruth {
  /** Hour of day, UTC. */
  hour: number;
  measurements: number;
  failed: number;
  /** Traffic offered to the shared link (background + measurements), mean Mbit/s. */
  offeredMbps: number;
  /** Traffic the shared link carried, mean Mbit/s. */
  deliveredMbps: number;
  /** Of which the measurements, mean Mbit/s. */
  measurementMbps: number;
  /** The shared link's capacity, mean Mbit/s. */
  capacityMbps: number;
  /** deliveredMbps / capacityMbps. */
  utilisation: number;
  /** Mean queueing delay of the shared link, ms. */
  sharedQueueMs: number;
  /** Median over successful measurements of their speed relative to an idle network (null when none). */
  medianThroughputToCap: number | null;
  /** Which link limited the measurements (counts). */
  bottlenecks: Record<Bottleneck, number>;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Folds the run's simulated hours (index 0 = the hour starting at startMs) into 24 hours of day. */
export function hoursOfDay(hours: readonly HourAccumulator[], startMs: number, hourMs: number): HourTruth[] {
  const folded = Array.from({ length: 24 }, newHour);
  const spanMs = Array<number>(24).fill(0);
  hours.forEach((a, i) => {
    const f = folded[SimClock.hourOf(startMs + i * hourMs)]!;
    spanMs[SimClock.hourOf(startMs + i * hourMs)]! += hourMs;
    f.capacityMbpsMs += a.capacityMbpsMs;
    f.sharedLoadMbpsMs += a.sharedLoadMbpsMs;
    f.measurementLoadMbpsMs += a.measurementLoadMbpsMs;
    f.backgroundOfferedMbpsMs += a.backgroundOfferedMbpsMs;
    f.queueMsMs += a.queueMsMs;
    f.measurements += a.measurements;
    f.failed += a.failed;
    f.offeredMeasurementBytes += a.offeredMeasurementBytes;
    for (const x of a.throughputToCap) f.throughputToCap.push(x);
    for (const b of BOTTLENECKS) f.bottlenecks[b] += a.bottlenecks[b];
  });
  return folded.map((f, hour) => {
    const ms = spanMs[hour]! || 1;
    const capacityMbps = f.capacityMbpsMs / ms;
    const deliveredMbps = f.sharedLoadMbpsMs / ms;
    const measurementOfferedMbps = (f.offeredMeasurementBytes * 8) / 1e6 / (ms / 1000);
    return {
      hour,
      measurements: f.measurements,
      failed: f.failed,
      offeredMbps: round(f.backgroundOfferedMbpsMs / ms + measurementOfferedMbps),
      deliveredMbps: round(deliveredMbps),
      measurementMbps: round(f.measurementLoadMbpsMs / ms),
      capacityMbps: round(capacityMbps),
      utilisation: round(capacityMbps > 0 ? deliveredMbps / capacityMbps : 1, 4),
      sharedQueueMs: round(f.queueMsMs / ms),
      medianThroughputToCap: (() => {
        const m = median(f.throughputToCap);
        return m === null ? null : round(m, 4);
      })(),
      bottlenecks: f.bottlenecks,
    };
  });
}

/** In a congested hour the median measurement ran below this share of its speed on an idle network. */
export const CONGESTED_THROUGHPUT_TO_CAP = 0.5;

/**
 * The verdicts the analyser is checked against: the busiest hours (most measurements; ties within
 * 5 % of the top count all count) and the congested hours (the median measurement ran at less
 * than half the speed it had alone on an idle network), both from what the model did.
 */
export function truthVerdicts(hours: readonly HourTruth[]): {
  busiestHours: number[];
  congestedHours: number[];
  mostCongestedHour: number | null;
} {
  const top = Math.max(...hours.map((h) => h.measurements));
  const busiestHours = hours.filter((h) => top > 0 && h.measurements >= 0.95 * top).map((h) => h.hour);
  const judged = hours.filter((h) => h.medianThroughputToCap !== null);
  const congestedHours = judged.filter((h) => h.medianThroughputToCap! < CONGESTED_THROUGHPUT_TO_CAP).map((h) => h.hour);
  const worst = judged.reduce<HourTruth | null>(
    (w, h) => (w === null || h.medianThroughputToCap! < w.medianThroughputToCap! ? h : w),
    null,
  );
  return { busiestHours, congestedHours, mostCongestedHour: worst && congestedHours.length > 0 ? worst.hour : null };
}
