/**
 * What the model engine hands out for one measurement (the same fields a real probe measures), and
 * the pure helpers that build one: a failed measurement, the 250 ms samples of a rate timeline, and
 * the transfer time the same download would take alone on an idle network.
 */
import { roundsFor, slowStart } from './network.js';

export interface ModelMeasurement {
  /** Index into the plans. */
  client: number;
  startedAtMs: number;
  sizeBytes: number;
  error: { code: string; message: string } | null;
  connectMs: number | null;
  tlsMs: number | null;
  idleRttMs: number | null;
  responseMs: number | null;
  transferMs: number | null;
  bytes: number;
  loadedRttMs: number | null;
  samplesMbps: number[];
  /** Transfers the server ran when this one started, and its mean outbound rate meanwhile. */
  serverConcurrentTransfers: number | null;
  serverOutboundMbps: number | null;
}

/** Transfer time of `sizeBytes` on an idle network: slow start over the base RTT toward the access cap, then the cap. */
export function aloneTransferMs(sizeBytes: number, capMbps: number, baseRttMs: number, initialWindowBytes: number): number {
  const ss = slowStart(capMbps, baseRttMs, initialWindowBytes);
  if (sizeBytes <= ss.bytes) {
    const rounds = roundsFor(sizeBytes, initialWindowBytes);
    return (rounds - 1) * baseRttMs + (Math.min(sizeBytes, initialWindowBytes * 2 ** (rounds - 1)) * 8) / (capMbps * 1000);
  }
  return ss.rounds * baseRttMs + ((sizeBytes - ss.bytes) * 8) / (capMbps * 1000);
}

export function failedMeasurement(client: number, startedAtMs: number, sizeBytes: number, code: string, message: string): ModelMeasurement {
  return {
    client,
    startedAtMs,
    sizeBytes,
    error: { code, message },
    connectMs: null,
    tlsMs: null,
    idleRttMs: null,
    responseMs: null,
    transferMs: null,
    bytes: 0,
    loadedRttMs: null,
    samplesMbps: [],
    serverConcurrentTransfers: null,
    serverOutboundMbps: null,
  };
}

const SAMPLE_MS = 250;
const MAX_SAMPLES = 2_400;

/** Throughput of each whole 250 ms interval from the first byte, from a piecewise-constant rate timeline. */
export function samplesFrom(timeline: readonly number[], fromMs: number, toMs: number): number[] {
  const samples: number[] = [];
  let seg = 0;
  for (let w = fromMs; w + SAMPLE_MS <= toMs && samples.length < MAX_SAMPLES; w += SAMPLE_MS) {
    const wEnd = w + SAMPLE_MS;
    let bits = 0;
    while (seg + 2 < timeline.length && timeline[seg + 2]! <= w) seg += 2;
    for (let k = seg; k < timeline.length; k += 2) {
      const a = Math.max(w, timeline[k]!);
      const b = Math.min(wEnd, k + 2 < timeline.length ? timeline[k + 2]! : Infinity);
      if (a >= wEnd) break;
      if (b > a) bits += timeline[k + 1]! * (b - a);
    }
    samples.push(Math.round((bits / SAMPLE_MS) * 1000) / 1000);
  }
  return samples;
}
