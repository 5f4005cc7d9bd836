/**
 * How test/harness/run.ts starts a test file: `node --import ts-register.mjs --import setup.ts
 * --test-force-exit --test-reporter=spec FILE`, one Node process that runs the file's tests itself.
 *
 * Not `node --test FILE`: on Node 20 that process only spawns a second one for the file (with the
 * same --import flags) and relays its results, so every file paid Node's and the TypeScript
 * loader's start twice. Run directly, the file keeps what the runner relies on: the spec reporter,
 * exit status 1 when a test fails, and --test-force-exit (the process exits once its tests are done,
 * even with a timer or a socket left open); test/harness/teardown.test.ts runs its fixtures this way.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';

export const TS_REGISTER = pathToFileURL(fileURLToPath(new URL('ts-register.mjs', import.meta.url))).href;
export const SETUP = pathToFileURL(fileURLToPath(new URL('setup.ts', import.meta.url))).href;

/** The arguments of `node` that run one test file. */
export function testProcessArgs(file: string): string[] {
  return ['--import', TS_REGISTER, '--import', SETUP, '--test-force-exit', '--test-reporter=spec', file];
}
