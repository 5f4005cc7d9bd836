import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/**
 * The dashboard's front end, bundled at build time (scripts/build-web.mjs) into dist/web/assets/.
 * The same path holds from src/web (tests under tsx) and from dist/web (the built package).
 */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/web/assets/', import.meta.url));

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Reads every asset into memory once, with a gzip copy and an ETag. `index.html` is served at `/`,
 * the rest at `/assets/NAME`. Undefined when the folder is missing (front end not built).
 */
export async function loadAssets(dir: string = DEFAULT_ASSETS_DIR): Promise<Map<string, Asset> | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  if (!names.includes('index.html')) return undefined;
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (type === undefined) continue;
    const body = await readFile(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    assets.set(name === 'index.html' ? '/' : `/assets/${name}`, { type, body, gzip: gzipSync(body), etag });
  }
  return assets;
}
