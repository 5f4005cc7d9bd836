import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { StoredResult } from '../../../src/protocol/result.js';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { sampleResult } from '../../helpers/wire.js';

/** Monday 2025-01-06 00:00 UTC: the start of the hand-built datasets. */
export const T0 = Date.UTC(2025, 0, 6);
export const MIN = 60_000;
export const HOUR = 3_600_000;

export interface Measure {
  client: string;
  /** ms since the epoch or ISO text. */
  at: number | string;
  mbps?: number | null;
  downloadMs?: number | null;
  responseMs?: number | null;
  failed?: boolean;
  bytes?: number;
  idleRttMs?: number | null;
  loadedRttMs?: number | null;
  rpm?: number | null;
  rpmProbes?: number;
  tcpRttMs?: number | null;
  tcpRetransmits?: number | null;
  clientLimited?: boolean;
  serverConcurrentTransfers?: number | null;
  serverOutboundMbps?: number | null;
}

/** A stored result with the given measurements (defaults: 100 Mbit/s, 100 ms download, 10 ms response). */
export function stored(m: Measure): StoredResult {
  const startedAt = typeof m.at === 'number' ? new Date(m.at).toISOString() : m.at;
  const failed = m.failed ?? false;
  return {
    ...sampleResult({
      startedAt,
      bytes: m.bytes ?? (failed ? 0 : 1_000_000),
      throughputMbps: failed ? null : m.mbps === undefined ? 100 : m.mbps,
      goodputMbps: null,
      downloadMs: failed ? null : m.downloadMs === undefined ? 100 : m.downloadMs,
      transferMs: failed ? null : 90,
      responseMs: failed ? null : m.responseMs === undefined ? 10 : m.responseMs,
      idleRttMs: m.idleRttMs === undefined ? null : m.idleRttMs,
      loadedRttMs: m.loadedRttMs === undefined ? null : m.loadedRttMs,
      ...(m.rpm === undefined ? {} : { rpm: m.rpm, rpmProbes: m.rpmProbes ?? 20 }),
      ...(m.tcpRttMs === undefined ? {} : { tcpRttMs: m.tcpRttMs, tcpRetransmits: m.tcpRetransmits ?? 0 }),
      clientLimited: m.clientLimited ?? false,
      sha256Ok: failed ? null : true,
      error: failed ? { code: 'NETPROBE_TIMEOUT', message: 'timed out' } : null,
    }),
    client: m.client,
    receivedAt: startedAt,
    serverConcurrentTransfers: m.serverConcurrentTransfers ?? null,
    serverOutboundMbps: m.serverOutboundMbps ?? null,
  };
}

/** `count` results of `client`, `everyMs` apart from `fromMs`; `each(i, at)` overrides fields. */
export function schedule(
  client: string,
  fromMs: number,
  everyMs: number,
  count: number,
  each: (i: number, at: number) => Partial<Measure> = () => ({}),
): Measure[] {
  return Array.from({ length: count }, (_, i) => {
    const at = fromMs + i * everyMs;
    return { client, at, ...each(i, at) };
  });
}

/** A real SQLite store in a temporary directory holding `measures`; removed after the test. */
export async function storeWith(t: TestContext, measures: readonly Measure[]): Promise<SqliteStore & { path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-analysis-'));
  const path = join(dir, 'results.db');
  const store = new SqliteStore(path, { synchronous: 'normal' });
  await store.insertResults([measures.map(stored)]);
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return Object.assign(store, { path });
}
