/**
 * The V8 settings every process of a server runs with (issue 18: memory). A server allocates little
 * that lives (slices are views of the test files, frames are small), but V8's default young
 * generation grows its semi-spaces up to 16 MiB each under a steady allocation rate (module loading
 * at start-up is one), and garbage then lifts the process's RSS by 10–15 MiB
 * (docs/profiling.md, parts 6 and 8). So the young generation stays at 1 MiB semi-spaces:
 * - a worker is started with `--max-semi-space-size=1` (cluster.ts);
 * - the process `netprobe server` runs in (the primary of a multi-process server, or the only one)
 *   knows it is a server only once it runs, too late for that flag (V8 sizes the heap once, at
 *   start-up). It stops its young generation from growing instead, before loading the server's
 *   modules: V8 reads `--semi-space-growth-factor` at each growth, and its semi-spaces start at
 *   1 MiB.
 * `node --max-semi-space-size=N netprobe server …` overrides both (workers inherit their primary's
 * node flags).
 */
import { setFlagsFromString } from 'node:v8';

/** A worker's V8 flag for its young generation, unless its primary was given one of its own. */
export const WORKER_YOUNG_GENERATION_FLAG = '--max-semi-space-size=1';

/** node's command line sets a young generation size: the operator's choice stands (workers inherit it too). */
export function youngGenerationSetByNode(execArgv: readonly string[]): boolean {
  return execArgv.some((a) => /^--(max|min)[-_]semi[-_]space[-_]size\b/.test(a));
}

/** Keeps this process's young generation at its starting size (1 MiB semi-spaces on 64-bit), unless node's command line sets one. */
export function keepYoungGenerationSmall(): void {
  if (!youngGenerationSetByNode(process.execArgv)) setFlagsFromString('--semi-space-growth-factor=1');
}
