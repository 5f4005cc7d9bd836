/** Writes docs/cli.md from the option tables; `--check` exits 1 when the file is stale. */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderCliDocs } from '../src/cli/options/docs.js';

const path = new URL('../docs/cli.md', import.meta.url);
const text = renderCliDocs();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (current !== text) {
    process.stderr.write('docs/cli.md is stale: run npm run docs:cli\n');
    process.exitCode = 1;
  }
} else {
  writeFileSync(path, text);
  process.stdout.write('wrote docs/cli.md\n');
}
