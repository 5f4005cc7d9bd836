/**
 * Writes docs/benchmarks.md's latest-results table (between its markers) and every
 * `<!-- bench-rows NAME -->` section of docs/*.md (docs/simulator.md's simulate rows) from
 * bench/results/*.json; `--check` exits 1 when one is stale.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readResults, renderLatestResults, withBenchRows, withSection } from '../bench/table.js';

const docs = new URL('../docs/', import.meta.url);
const results = readResults(fileURLToPath(new URL('../bench/results/', import.meta.url)));
const stale: string[] = [];
for (const name of readdirSync(docs).filter((n) => n.endsWith('.md'))) {
  const path = new URL(name, docs);
  const current = readFileSync(path, 'utf8');
  let text = withBenchRows(current, results);
  if (name === 'benchmarks.md') text = withSection(text, renderLatestResults(results));
  if (text === current) continue;
  stale.push(`docs/${name}`);
  if (!process.argv.includes('--check')) writeFileSync(path, text);
}
if (process.argv.includes('--check')) {
  if (stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')}: run npm run docs:bench\n`);
    process.exitCode = 1;
  }
} else {
  process.stdout.write(stale.length > 0 ? `wrote ${stale.join(', ')}\n` : 'docs up to date\n');
}
