#!/usr/bin/env node
/**
 * Bundles the dashboard front end (src/web/ui) into one JS and one CSS file with esbuild and copies
 * the page next to them: dist/web/assets/{index.html,dashboard.js,dashboard.css}. The server serves
 * them from the package; nothing is loaded from a CDN. `--outdir DIR` writes elsewhere (tests).
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const ui = join(root, 'src', 'web', 'ui');

export async function buildWeb(outdir = join(root, 'dist', 'web', 'assets')) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { dashboard: join(ui, 'main.ts') },
    outdir,
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  await copyFile(join(ui, 'index.html'), join(outdir, 'index.html'));
  const js = await readFile(join(outdir, 'dashboard.js'));
  return { outdir, jsBytes: js.length };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const { outdir, jsBytes } = await buildWeb(values.outdir);
  console.log(`dashboard bundle: ${outdir} (dashboard.js ${(jsBytes / 1024).toFixed(0)} KiB)`);
}
