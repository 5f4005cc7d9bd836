/**
 * The congestion marks of the page (feed, client table, chart) use the analyser's degraded test
 * (src/analysis/degraded.ts, bundled) with each client's baselines and the thresholds the server's
 * summary carries, so a red mark here is exactly a result the episodes count.
 */
import { type DegradedLimits, degradedLimits, isDegraded } from '../../analysis/degraded.js';
import type { ClientRow, Point, Summary } from '../api-types.js';

/** Degraded limits per client that has a baseline in the summary's window. */
export function limitsByClient(summary: Summary | undefined): Map<string, DegradedLimits> {
  const out = new Map<string, DegradedLimits>();
  for (const c of summary?.clients ?? []) {
    if (c.baselineMbps !== null)
      out.set(c.client, degradedLimits({ throughputMbps: c.baselineMbps, latencyMs: c.latencyBaselineMs }, summary!.thresholds));
  }
  return out;
}

/** A successful result that fails the degraded test (failures are marked as failures, not congestion). */
export function congestedPoint(p: Pick<Point, 'error' | 'mbps' | 'downloadMs'>, limits: DegradedLimits | undefined): boolean {
  return p.error === null && limits !== undefined && isDegraded(false, p.mbps ?? NaN, p.downloadMs ?? NaN, limits);
}

/** The client row's latest result, by the same test. */
export function congestedRow(c: ClientRow, limits: DegradedLimits | undefined): boolean {
  return congestedPoint({ error: c.lastError, mbps: c.lastMbps, downloadMs: c.lastDownloadMs }, limits);
}
