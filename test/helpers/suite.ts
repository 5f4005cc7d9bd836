/**
 * The two suites: `npm test` (quick: every test file, load-heavy tests at a reduced size, a few
 * minutes on two busy cores) and `npm run test:long` (the files that import this module, at full
 * size). test/harness/run.ts sets NETPROBE_TEST_SUITE and picks the long suite's files by their
 * import of this module, so a new load-heavy test joins it by using `sized` or `longOnly`.
 */
export type Suite = 'quick' | 'long';

export const SUITE: Suite = process.env.NETPROBE_TEST_SUITE === 'long' ? 'long' : 'quick';

/** A load-heavy test's size: the reduced one in `npm test`, the full one in `npm run test:long`. */
export function sized<T>(sizes: Record<Suite, T>): T {
  return sizes[SUITE];
}

/** Test options for a test that only `npm run test:long` runs (skipped, with the reason, in `npm test`). */
export const longOnly: { skip: string | false } = { skip: SUITE === 'long' ? false : 'load-heavy: runs in npm run test:long' };
