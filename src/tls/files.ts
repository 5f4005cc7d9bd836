/**
 * Writing and reading PEM files for the CA. Private keys are created 0600 and certificates 0644;
 * the mode is set both when the file is opened and with fchmod afterwards, so the umask cannot widen
 * or narrow it. Every filesystem failure becomes a CertError naming the path.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CertError, errorCode, errorMessage } from '../errors.js';

export const KEY_FILE_MODE = 0o600;
export const CERT_FILE_MODE = 0o644;

export interface PemFile {
  path: string;
  contents: string;
  mode: number;
}

function describe(err: unknown): string {
  const code = errorCode(err);
  return code.startsWith('NETPROBE_') ? errorMessage(err) : `${code}: ${errorMessage(err)}`;
}

/** Directories `certs` creates hold keys: owner only, whatever the umask (0777 under umask 000 before). */
const DIR_MODE = 0o700;

export async function ensureDir(dir: string): Promise<void> {
  try {
    const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
    // mkdir's mode is masked by the umask; every directory created here is set explicitly
    // (an existing directory is the operator's and left as it is).
    if (first !== undefined) {
      const created = resolve(dir);
      for (let d = created; d.length >= resolve(first).length; d = dirname(d)) {
        await chmod(d, DIR_MODE);
        if (d === dirname(d)) break;
      }
    }
  } catch (err) {
    throw new CertError(`cannot create directory ${dir}: ${describe(err)}`, { cause: err });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw new CertError(`cannot check ${path}: ${describe(err)}`, { cause: err });
  }
}

function alreadyExists(path: string): CertError {
  return new CertError(`${path} already exists: use --force to overwrite it`);
}

/** Throws a CertError naming the first of `paths` that exists. */
export async function assertAbsent(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    if (await exists(path)) throw alreadyExists(path);
  }
}

/** Creates `path` exclusively (O_EXCL), writes `contents`, forces `mode`; removes it on failure. */
async function writeNew(path: string, contents: string, mode: number): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } catch (err) {
    await unlink(path).catch(() => undefined);
    throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Writes one PEM file. Without `force` an existing file is an error. With `force` the contents go to
 * a fresh temporary file in the same directory that is then renamed over the target, so a reader
 * never sees a half-written key and a symlink at the target is replaced, not followed.
 */
export async function writePemFile(file: PemFile, force: boolean): Promise<void> {
  const target = force ? join(dirname(file.path), `.${basename(file.path)}.${randomBytes(6).toString('hex')}.tmp`) : file.path;
  try {
    await writeNew(target, file.contents, file.mode);
    if (force) await rename(target, file.path);
  } catch (err) {
    if (force) await unlink(target).catch(() => undefined);
    if (errorCode(err) === 'EEXIST') throw alreadyExists(file.path);
    throw new CertError(`cannot write ${file.path}: ${describe(err)}`, { cause: err });
  }
}

/**
 * Writes all files, refusing (before writing any) if one exists and `force` is not set. Without
 * `force`, a failure part-way removes the files this call created, so a retry does not hit EEXIST.
 */
export async function writePemFiles(files: readonly PemFile[], force: boolean): Promise<void> {
  if (!force) await assertAbsent(files.map((file) => file.path));
  const written: string[] = [];
  try {
    for (const file of files) {
      await writePemFile(file, force);
      written.push(file.path);
    }
  } catch (err) {
    if (!force) await Promise.all(written.map((path) => unlink(path).catch(() => undefined)));
    throw err;
  }
}

/** Reads a text file; ENOENT yields undefined so callers can word a "missing" error themselves. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return undefined;
    throw new CertError(`cannot read ${path}: ${describe(err)}`, { cause: err });
  }
}
