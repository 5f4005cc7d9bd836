/**
 * A model measurement as the real client would have reported it: the same Result schema, ids
 * UUIDv7 from the simulated start time and seeded bits, durations rounded like the probe's.
 * Pure (the randomness is passed in).
 */
import { uuidv7 } from '../../client/uuid.js';
import type { Result } from '../../protocol/result.js';
import type { ModelMeasurement } from './measurement.js';

const r3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);

export interface ResultContext {
  clientName: string;
  /** host:port of the simulated server. */
  server: string;
  file: string;
  random: () => number;
}

export function toResult(m: ModelMeasurement, c: ResultContext): Result {
  const startMs = Math.floor(m.startedAtMs);
  const ok = m.error === null;
  const downloadMs = ok && m.responseMs !== null && m.transferMs !== null ? m.responseMs + m.transferMs : null;
  return {
    id: uuidv7(startMs, (bytes) => {
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(c.random() * 256);
    }),
    client: c.clientName,
    server: c.server,
    file: c.file,
    mode: 'file',
    startedAt: new Date(startMs).toISOString(),
    bytes: m.bytes,
    dnsMs: null,
    connectMs: r3(m.connectMs),
    tlsMs: r3(m.tlsMs),
    idleRttMs: r3(m.idleRttMs),
    responseMs: r3(m.responseMs),
    downloadMs: r3(downloadMs),
    transferMs: r3(m.transferMs),
    throughputMbps: ok && m.transferMs ? r3((m.bytes * 8) / (m.transferMs * 1000)) : null,
    goodputMbps: ok && downloadMs ? r3((m.bytes * 8) / (downloadMs * 1000)) : null,
    loadedRttMs: r3(m.loadedRttMs),
    samplesMbps: m.samplesMbps,
    // The model has no CPU: not measured, and never client-limited.
    cpuMs: null,
    clientLimited: false,
    sha256Ok: ok ? true : null,
    tlsVersion: null,
    cipher: null,
    busyRetries: 0,
    error: m.error,
  };
}
