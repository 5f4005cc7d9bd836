/**
 * The dashboard token, when the configuration sets none: generated once and kept in a file next to
 * the SQLite store (mode 0600), so a restart keeps it and a Prometheus scrape job keeps working.
 * The file's path is what gets logged and printed, never the token.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { generateToken } from './auth.js';

export const TOKEN_FILE_NAME = 'netprobe-dashboard.token';
const TOKEN = /^[A-Za-z0-9._~+/-]{16,}=*$/;

/** Where a store keeps its generated token: next to a SQLite file; none for PostgreSQL or :memory:. */
export function tokenFileFor(storeLocation: string): string | undefined {
  if (/^postgres(ql)?:\/\//.test(storeLocation) || storeLocation === ':memory:' || storeLocation === '') return undefined;
  return join(dirname(resolve(storeLocation)), TOKEN_FILE_NAME);
}

/** Reads the token in `path`, or generates one and writes it there (0600, never over an existing file). */
export async function loadOrCreateToken(path: string): Promise<{ token: string; created: boolean }> {
  const read = async (): Promise<string | undefined> => {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ConfigError(`cannot read the dashboard token file ${path}: ${(err as Error).message}`, { cause: err });
    }
  };
  const check = (token: string) => {
    if (!TOKEN.test(token))
      throw new ConfigError(
        `the dashboard token file ${path} does not hold a token (16+ characters of A-Z a-z 0-9 . _ ~ + / -): delete it to generate a new one`,
      );
    return token;
  };
  const existing = await read();
  if (existing !== undefined) return { token: check(existing), created: false };
  const token = generateToken();
  try {
    await writeFile(path, `${token}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process (a second collector on the same store directory) wrote it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return { token: check((await read()) ?? ''), created: false };
    throw new ConfigError(`cannot write the dashboard token file ${path}: ${(err as Error).message}`, { cause: err });
  }
  return { token, created: true };
}
