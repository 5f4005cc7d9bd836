import { prepareRun, type SimOptions, type SimSummary } from './common.js';
import { runModel } from './model-run.js';
import { runReal } from './real-run.js';

export type { SimEngine, SimOptions, SimProgress, SimSummary } from './common.js';

/**
 * Runs a simulation with the model engine (default: the network computed in simulated time, the
 * results sent through the real reporting path) or the real engine (real transfers, compressed
 * clock), then checks stored-exactly-once and writes truth.json.
 */
export async function runSimulation(o: SimOptions): Promise<SimSummary> {
  const run = await prepareRun(o);
  return (o.engine ?? 'model') === 'model' ? runModel(o, run) : runReal(o, run);
}
