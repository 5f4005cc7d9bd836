/**
 * `node --import ./test/harness/ts-register.mjs FILE.ts`: runs the project's TypeScript in the test
 * processes (test/harness/run.ts starts every test file this way), in place of `--import tsx`.
 * Stack traces name the .ts lines (inline source maps). See ts-hooks.mjs for what it does and why.
 */
import { register } from 'node:module';

process.setSourceMapsEnabled(true);
register('./ts-hooks.mjs', import.meta.url);
