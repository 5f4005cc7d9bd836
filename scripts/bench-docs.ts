/**
 * Writes docs/benchmarks.md's latest-results table (between its markers) from bench/results/*.json;
 * `--check` exits 1 when the table is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readResults, renderLatestResults, withSection } from '../bench/table.js';

const path = new URL('../docs/benchmarks.md', import.meta.url);
const current = readFileSync(path, 'utf8');
const text = withSection(current, renderLatestResults(readResults(fileURLToPath(new URL('../bench/results/', import.meta.url)))));
if (process.argv.includes('--check')) {
  if (current !== text) {
    process.stderr.write('docs/benchmarks.md is stale: run npm run docs:bench\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(path, text);
  process.stdout.write('wrote docs/benchmarks.md (latest-results table)\n');
}
