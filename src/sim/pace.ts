/**
 * The real engine compresses time, but a real transfer cannot be compressed: a planned download
 * must stay short against a simulated hour, or it smears across hours and the next measurements
 * of that client wait. This rule refuses settings where the slowest planned download (the file at
 * the slowest access cap, or at the shared link's lowest capacity) lasts more than
 * MAX_HOUR_SHARE of a simulated hour of real time, and says which --day or --file would work. Pure.
 */
import { UsageError } from '../errors.js';
import { formatDurationMs, formatSizeBytes } from '../units.js';

export const MAX_HOUR_SHARE = 0.05;

export interface PaceInput {
  fileBytes: number;
  fileName: string;
  dayMs: number;
  capMinMbps: number;
  /** The shared link at its lowest capacity of the day, Mbit/s. */
  sharedMinMbps: number;
}

/** Real milliseconds of the slowest planned download. */
export function slowestTransferMs(p: PaceInput): number {
  const rateMbps = Math.min(p.capMinMbps, p.sharedMinMbps);
  return (p.fileBytes * 8) / (rateMbps * 1000);
}

/** Throws a UsageError naming a --day and a --file that would work, when the pace is too fast. */
export function checkRealPace(p: PaceInput): void {
  const hourMs = p.dayMs / 24;
  const transferMs = slowestTransferMs(p);
  if (transferMs <= MAX_HOUR_SHARE * hourMs) return;
  // Round up to whole seconds so the suggestion itself passes.
  const dayMs = Math.ceil(((transferMs / MAX_HOUR_SHARE) * 24) / 1000) * 1000;
  const maxBytes = (MAX_HOUR_SHARE * hourMs * Math.min(p.capMinMbps, p.sharedMinMbps) * 1000) / 8;
  let fileBytes = 1024;
  while (fileBytes * 2 <= maxBytes) fileBytes *= 2;
  const file = fileBytes <= maxBytes ? `--file ${formatSizeBytes(fileBytes)} or smaller` : 'no built-in file is small enough';
  throw new UsageError(
    `--engine real: a ${p.fileName} download at ${Math.min(p.capMinMbps, p.sharedMinMbps)} Mbit/s takes ${Math.round(transferMs)} ms, ` +
      `${Math.round((transferMs / hourMs) * 100)} % of a simulated hour at --day ${formatDurationMs(p.dayMs)} (at most ${MAX_HOUR_SHARE * 100} %): ` +
      `use --day ${formatDurationMs(dayMs)} or longer, or ${file} (or --engine model, which has no such limit)`,
  );
}
