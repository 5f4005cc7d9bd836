import { UsageError } from '../errors.js';
import { kernelLinkUnavailable } from './kernel-link.js';
import { prepareRun, fileSizeBytes, type SimOptions, type SimSummary } from './common.js';
import { runModel } from './model-run.js';
import { checkRealPace } from './pace.js';
import { realSharedMbps, runReal } from './real-run.js';

export type { SimEngine, SimOptions, SimProgress, SimSummary } from './common.js';

/**
 * Runs a simulation with the model engine (default: the network computed in simulated time, the
 * results sent through the real reporting path) or the real engine (real transfers, compressed
 * clock; refused when a planned transfer would last too long against a simulated hour), then
 * checks stored-exactly-once and writes truth.json.
 */
export async function runSimulation(o: SimOptions): Promise<SimSummary> {
  checkSimOptions(o);
  const why = o.kernelLink ? await kernelLinkUnavailable() : undefined;
  if (why) throw new UsageError(`--kernel-link ${why}; without it the real engine shapes the shared link with a token bucket`);
  const run = await prepareRun(o);
  return (o.engine ?? 'model') === 'model' ? runModel(o, run) : runReal(o, run);
}

/** Refuses settings the engine cannot honour, before anything is written. */
export function checkSimOptions(o: SimOptions): void {
  if (o.kernelLink && (o.engine ?? 'model') !== 'real')
    throw new UsageError("--kernel-link shapes the real engine's shared link: use it with --engine real");
  if ((o.engine ?? 'model') === 'real') {
    const file = o.file ?? '1MiB';
    checkRealPace({
      fileBytes: fileSizeBytes(file),
      fileName: file,
      dayMs: o.dayMs,
      capMinMbps: o.capMinMbps ?? 10,
      sharedMinMbps: realSharedMbps(o) * Math.max(0.01, Math.min(...o.profile.capacity)),
    });
  }
}
