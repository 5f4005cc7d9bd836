import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { ClientMeasurements } from '../../../src/store/analysis-types.js';
import { type StoreOptions, openStore } from '../../../src/store/open.js';
import type { Store } from '../../../src/store/types.js';
import { adminQuery, needPostgres, schemaLocation } from './postgres.js';

/** One store implementation under the contract suite. */
export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A fresh location removed after the test; undefined when the backend is unavailable (the test is skipped). */
  location(t: TestContext): Promise<string | undefined>;
  /** Writes a schema version into the store behind netprobe's back. */
  setSchemaVersion(location: string, version: number): Promise<void>;
}

export const sqlite: Backend = {
  name: 'sqlite',
  async location(t) {
    const dir = await mkdtemp(join(tmpdir(), 'netprobe-store-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    return `sqlite:${join(dir, 'results.db')}`;
  },
  async setSchemaVersion(location, version) {
    const db = new Database(location.slice('sqlite:'.length));
    db.pragma(`user_version = ${version}`);
    db.close();
  },
};

export const postgres: Backend = {
  name: 'postgres',
  async location(t) {
    if (!(await needPostgres(t))) return undefined;
    return schemaLocation(t).location;
  },
  async setSchemaVersion(location, version) {
    const schema = new URL(location).searchParams.get('schema')!;
    await adminQuery(`INSERT INTO ${schema}.netprobe_schema (version) VALUES ($1)`, [version]);
  },
};

export const BACKENDS: readonly Backend[] = [sqlite, postgres];

/** Opens a store at `location`, closed after the test. */
export async function openFor(t: Pick<TestContext, 'after'>, location: string, options: StoreOptions = {}): Promise<Store> {
  const store = await openStore(location, options);
  t.after(() => store.close());
  return store;
}

/** A fresh store of `backend`, or undefined when it is unavailable. */
export async function freshStore(t: TestContext, backend: Backend): Promise<{ store: Store; location: string } | undefined> {
  const location = await backend.location(t);
  if (location === undefined) return undefined;
  return { store: await openFor(t, location), location };
}

/** Typed arrays as plain arrays, so deepStrictEqual compares NaN as equal to NaN. */
export function plainMeasurements(m: ClientMeasurements): Record<string, unknown> {
  return {
    ...m,
    startedAtMs: [...m.startedAtMs],
    throughputMbps: [...m.throughputMbps],
    downloadMs: [...m.downloadMs],
    responseMs: [...m.responseMs],
    failed: [...m.failed],
  };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
