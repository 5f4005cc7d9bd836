/**
 * File-system errors a user can cause (a path that cannot be written, a file where a folder should
 * be) as one line naming the path and why, instead of a stack trace.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

const WHY: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder',
  ENOENT: 'no such file or folder',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'a file of that name is in the way',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
};

interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
}

/** A node system error about a path (fs calls carry `syscall` and `path`). */
export function isPathError(err: unknown): err is SystemError & Error {
  return (
    err instanceof Error && typeof (err as Partial<SystemError>).code === 'string' && typeof (err as Partial<SystemError>).path === 'string'
  );
}

/** "cannot mkdir report/charts: a part of the path is a file, not a folder (ENOTDIR)". */
export function describePathError(err: SystemError): string {
  const verb =
    err.syscall === 'open' ? 'open' : err.syscall === 'mkdir' ? 'create' : err.syscall === 'write' ? 'write to' : (err.syscall ?? 'use');
  return `cannot ${verb} ${err.path}: ${WHY[err.code] ?? err.code} (${err.code})`;
}

/**
 * Checks, creating nothing, that `dir` can be written or created: it is a writable folder, or its
 * nearest existing ancestor is one. Run before any work is done for it.
 */
export async function writableDir(dir: string, option: string): Promise<void> {
  const target = resolve(dir);
  for (let path = target; ; path = dirname(path)) {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(path) !== path) continue;
      if (isPathError(err)) throw new UsageError(`${option} ${dir}: ${describePathError(err)}`);
      throw err;
    }
    if (!isDir) {
      const why = path === target ? 'a file of that name is in the way' : `${path} is a file, not a folder`;
      throw new UsageError(`${option} ${dir}: cannot create ${dir}: ${why}`);
    }
    try {
      await access(path, constants.W_OK);
    } catch (err) {
      if (isPathError(err)) throw new UsageError(`${option} ${dir}: ${describePathError({ ...err, syscall: 'write', path })}`);
      throw err;
    }
    return;
  }
}
