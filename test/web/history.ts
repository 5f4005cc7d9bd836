import type { Result } from '../../src/protocol/result.js';
import { sampleResult } from '../helpers/wire.js';

const MINUTE = 60_000;

/** Deterministic noise in [-1, 1] (a small LCG), so every run draws the same picture. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

export interface HistoryPlan {
  /** Client → typical throughput (Mbit/s). */
  clients: Record<string, number>;
  everyMs: number;
  spanMs: number;
  /** Network-wide dip: [from, to] ms before now, throughput × factor for every client. */
  dip: { fromAgoMs: number; toAgoMs: number; factor: number };
  /** Clients whose last `n` results are congested. */
  congestedNow: Record<string, number>;
  /** Clients that stopped reporting this long ago. */
  silentFor: Record<string, number>;
  /** Client → how many results ago one failed. */
  failedAgo: Record<string, number>;
}

export const DEFAULT_PLAN: HistoryPlan = {
  clients: { 'alice-lab': 940, 'bob-office': 480, 'carol-home': 210, 'dave-branch': 95 },
  everyMs: 10 * MINUTE,
  spanMs: 5.5 * 60 * MINUTE,
  dip: { fromAgoMs: 150 * MINUTE, toAgoMs: 110 * MINUTE, factor: 0.3 },
  congestedNow: { 'carol-home': 2 },
  silentFor: { 'dave-branch': 55 * MINUTE },
  failedAgo: { 'bob-office': 7 },
};

/** Past results per client, as clients would have reported them, ending at `nowMs`. */
export function makeHistory(nowMs: number, plan: HistoryPlan = DEFAULT_PLAN): Map<string, Result[]> {
  const out = new Map<string, Result[]>();
  let seed = 7;
  for (const [client, typical] of Object.entries(plan.clients)) {
    const rand = noise(seed++);
    const results: Result[] = [];
    const stopAgo = plan.silentFor[client] ?? 0;
    const offset = Math.round((rand() + 1) * 2 * MINUTE);
    const starts: number[] = [];
    for (let ago = plan.spanMs - offset; ago >= stopAgo + MINUTE; ago -= plan.everyMs) starts.push(nowMs - ago);
    starts.forEach((t, i) => {
      const fromEnd = starts.length - 1 - i;
      const ago = nowMs - t;
      let mbps = typical * (1 + 0.08 * rand());
      if (ago <= plan.dip.fromAgoMs && ago >= plan.dip.toAgoMs) mbps *= plan.dip.factor * (1 + 0.2 * rand());
      if (fromEnd < (plan.congestedNow[client] ?? 0)) mbps *= 0.3;
      const failed = plan.failedAgo[client] === fromEnd;
      const bytes = 10 * 1024 * 1024;
      const transferMs = (bytes * 8) / (mbps * 1000);
      results.push(
        sampleResult({
          client,
          file: '10MiB',
          startedAt: new Date(t).toISOString(),
          bytes: failed ? 0 : bytes,
          throughputMbps: failed ? null : Math.round(mbps * 10) / 10,
          transferMs: failed ? null : transferMs,
          downloadMs: failed ? null : transferMs + 3,
          responseMs: failed ? null : Math.round((3 + Math.max(0, 1 - mbps / typical) * 20 + rand()) * 10) / 10,
          sha256Ok: failed ? null : true,
          error: failed ? { code: 'NETPROBE_CONNECT_TIMEOUT', message: 'connect timed out after 10000 ms' } : null,
        }),
      );
    });
    out.set(client, results);
  }
  return out;
}
