import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ErrorCodes, NetprobeError } from '../errors.js';

/**
 * A test file: its size, its SHA-256 and its bytes by range. `slice` returns views of memory the
 * file holds (no copy), except where a range crosses the end of a built-in file's period.
 */
export interface TestFile {
  readonly name: string;
  readonly sizeBytes: number;
  readonly sha256: string;
  /** Bytes [start, end) of the file; `end` ≤ sizeBytes. */
  slice(start: number, end: number): Buffer;
}

/**
 * Built-in files repeat one random block (per server) of this length: 4 MiB + 1021 bytes, a period that no slice
 * or DATA chunk size divides, so a misplaced slice changes the SHA-256 the client checks. The block is
 * all a process holds, whatever the file sizes and the worker count. Repetition is invisible on the
 * wire (every byte is TLS-encrypted, and the client authenticates the server, so nothing on the path
 * can decrypt and deduplicate), so throughput cannot be inflated by compression.
 */
export const BUILTIN_PERIOD_BYTES = 4 * 1024 * 1024 + 1021;

/** A file held in memory whole (the regular files of `files`). */
export function memoryFile(name: string, data: Buffer, sha256 = createHash('sha256').update(data).digest('hex')): TestFile {
  return { name, sizeBytes: data.length, sha256, slice: (start, end) => data.subarray(start, end) };
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
 * The random block every built-in file of one seed is cut from: an AES-256-CTR keystream keyed by
 * the seed, so the worker processes of one server, given the same seed, serve identical files.
 */
export function randomBlock(seed: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const block = Buffer.allocUnsafe(BUILTIN_PERIOD_BYTES);
  const zeros = Buffer.alloc(64 * 1024);
  for (let at = 0; at < block.length; at += zeros.length)
    cipher.update(zeros).copy(block, at, 0, Math.min(zeros.length, block.length - at));
  return block;
}

/**
 * `sizeBytes` bytes of `block` repeated, starting at an offset derived from the name (files of one
 * seed differ). Ranges inside one period are views of the block; a range across its end is copied.
 */
function builtinFile(name: string, sizeBytes: number, block: Buffer, sha256: string | undefined): TestFile {
  const period = block.length;
  const offset = createHash('sha256').update(name).digest().readUInt32BE(0) % period;
  const slice = (start: number, end: number): Buffer => {
    const from = (offset + start) % period;
    if (from + (end - start) <= period) return block.subarray(from, from + (end - start));
    const out = Buffer.allocUnsafe(end - start);
    for (let written = 0, at = from; written < out.length; at = 0)
      written += block.copy(out, written, at, Math.min(period, at + out.length - written));
    return out;
  };
  if (sha256 === undefined) {
    // Hashed from views of the block, never copies: hashing a 1 GiB file allocates nothing.
    const hash = createHash('sha256');
    for (let at = 0; at < sizeBytes;) {
      const from = (offset + at) % period;
      const length = Math.min(period - from, sizeBytes - at);
      hash.update(block.subarray(from, from + length));
      at += length;
    }
    sha256 = hash.digest('hex');
  }
  return { name, sizeBytes, sha256, slice };
}

/**
 * A built-in test file of random bytes (see BUILTIN_PERIOD_BYTES). A random seed unless given;
 * `sha256`, when known (computed once by a server's primary), spares hashing the whole file again.
 */
export function makeRandomFile(name: string, sizeBytes: number, seed: Buffer = randomBytes(32), sha256?: string): TestFile {
  return builtinFile(name, sizeBytes, randomBlock(seed), sha256);
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

/** SHA-256 of each built-in file of this seed (what a primary computes once for its workers). */
export function builtinDigests(builtin: readonly string[], seed: Buffer): Record<string, string> {
  const block = randomBlock(seed);
  return Object.fromEntries(builtin.map((name) => [name, builtinFile(name, parseSize(name), block, undefined).sha256]));
}

/**
 * Built-in random files named by their size ('1MiB', '10MiB', …) plus the regular files in `dir`.
 * `digests` (from builtinDigests with the same seed) skips hashing the built-in files.
 */
export async function buildCatalogue(
  builtin: readonly string[],
  dir?: string,
  seed: Buffer = randomBytes(32),
  digests?: Readonly<Record<string, string>>,
): Promise<Catalogue> {
  const catalogue = new Catalogue();
  const block = builtin.length > 0 ? randomBlock(seed) : undefined;
  for (const name of builtin) catalogue.add(builtinFile(name, parseSize(name), block!, digests?.[name]));
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
      catalogue.add(memoryFile(entry, data));
    }
  }
  return catalogue;
}
