/**
 * Module hooks (node:module `register`, from ts-register.mjs) that run TypeScript as tsx does for
 * this project, at a fraction of its cost: tsx added 0.4-1 CPU s to every test process (0.2 s to
 * start, then per module, JavaScript in node_modules included), which over the suite's 113 files was
 * about a fifth of `npm test`'s CPU.
 *
 * - resolve: in a .ts module, a relative `./name.js` that does not exist is `./name.ts` (TypeScript's
 *   nodenext convention); everything else goes to Node's resolver untouched.
 * - load: a .ts file is transformed by esbuild, file by file (tsconfig.json has isolatedModules and
 *   verbatimModuleSyntax, so no file needs another to compile), to ESM with an inline source map.
 *   The output is cached in node_modules/.cache/netprobe/ts/ under a hash of the file's path, its
 *   text, tsconfig.json and the esbuild version, so esbuild is only loaded when a file changed.
 *   Everything else (JavaScript, JSON, node_modules) goes to Node's loader untouched.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../../', import.meta.url);
const CACHE = fileURLToPath(new URL('node_modules/.cache/netprobe/ts/', ROOT));
const TSCONFIG = readFileSync(new URL('tsconfig.json', ROOT), 'utf8');
const ESBUILD_VERSION = createRequire(import.meta.url)('esbuild/package.json').version;
/** Loaded on the first cache miss only. */
let esbuild;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const url = new URL(specifier, parent);
    if (!existsSync(url)) {
      const ts = new URL(`${url.href.slice(0, -'.js'.length)}.ts`);
      if (existsSync(ts)) return { url: ts.href, format: 'module', shortCircuit: true };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(`${ESBUILD_VERSION}\0${TSCONFIG}\0${path}\0`).update(text).digest('hex');
  const cached = `${CACHE}${key}.js`;
  try {
    return { format: 'module', source: readFileSync(cached, 'utf8'), shortCircuit: true };
  } catch {
    // not transformed yet
  }
  esbuild ??= await import('esbuild');
  const { code } = esbuild.transformSync(text, {
    loader: 'ts',
    format: 'esm',
    target: `node${process.versions.node}`,
    sourcemap: 'inline',
    sourcefile: path,
    tsconfigRaw: TSCONFIG,
  });
  // Written whole under a unique name, then renamed: two test processes may transform the same file.
  mkdirSync(CACHE, { recursive: true });
  const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(partial, code);
  renameSync(partial, cached);
  return { format: 'module', source: code, shortCircuit: true };
}
