import { createCipheriv, createHash, randomFillSync } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ErrorCodes, NetprobeError } from '../errors.js';

/** A test file held in memory; every transfer sends slices of the same Buffer (never copied). */
export interface TestFile {
  name: string;
  data: Buffer;
  sha256: string;
}

/** Names a client may ask for: no separators, no dot-dot, nothing a path join could misuse. */
export const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const MAX_FILE_BYTES = 2 ** 31 - 1;

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1e3, MB: 1e6, GB: 1e9 };

/** '10MiB' → 10485760. Binary (KiB) and decimal (KB) units. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)$/.exec(text.trim());
  if (!m) throw new ConfigError(`'${text}' is not a size (examples: 1MiB, 512KiB, 10MB)`);
  const bytes = Math.round(Number(m[1]) * UNITS[m[2]!]!);
  if (bytes < 1 || bytes > MAX_FILE_BYTES) throw new ConfigError(`size ${text} is out of range (1 B to 2 GiB)`);
  return bytes;
}

/**
 * Incompressible content (random bytes), so TLS and any link compression cannot inflate throughput.
 * With a `seed` the bytes are an AES-256-CTR keystream keyed by seed and name: the worker processes
 * of one server, given the same seed, serve identical files (same SHA-256) without sharing memory.
 */
export function makeRandomFile(name: string, sizeBytes: number, seed?: Buffer): TestFile {
  let data: Buffer;
  if (seed === undefined) {
    data = Buffer.allocUnsafe(sizeBytes);
    randomFillSync(data);
  } else {
    const key = createHash('sha256').update(seed).update(name).digest();
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    data = Buffer.concat([cipher.update(Buffer.alloc(sizeBytes)), cipher.final()]);
  }
  return { name, data, sha256: createHash('sha256').update(data).digest('hex') };
}

export class Catalogue {
  private readonly files = new Map<string, TestFile>();

  add(file: TestFile): void {
    if (!FILE_NAME.test(file.name)) throw new ConfigError(`test file name '${file.name}' is not allowed`);
    if (this.files.has(file.name)) throw new ConfigError(`two test files are named '${file.name}'`);
    this.files.set(file.name, file);
  }

  /** Looks a name up; a name that is not in the catalogue is NETPROBE_NOT_FOUND, whatever it looks like. */
  get(name: string): TestFile {
    const file = FILE_NAME.test(name) ? this.files.get(name) : undefined;
    if (!file) throw new NetprobeError(ErrorCodes.notFound, `no test file named '${name.slice(0, 128)}'`);
    return file;
  }

  names(): string[] {
    return [...this.files.keys()].sort();
  }
}

/** Built-in random files named by their size ('1MiB', '10MiB', …) plus the regular files in `dir`. */
export async function buildCatalogue(builtin: readonly string[], dir?: string, seed?: Buffer): Promise<Catalogue> {
  const catalogue = new Catalogue();
  for (const name of builtin) catalogue.add(makeRandomFile(name, parseSize(name), seed));
  if (dir) {
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (err) {
      throw new ConfigError(`cannot read the files directory ${dir}: ${(err as Error).message}`, { cause: err });
    }
    for (const entry of entries.sort()) {
      const path = join(dir, entry);
      const info = await stat(path);
      if (!info.isFile() || !FILE_NAME.test(entry)) continue;
      if (info.size > MAX_FILE_BYTES) throw new ConfigError(`${path} is larger than 2 GiB`);
      const data = await readFile(path);
      catalogue.add({ name: entry, data, sha256: createHash('sha256').update(data).digest('hex') });
    }
  }
  return catalogue;
}
