import { z } from 'zod';

/**
 * One measurement, as the client sends it and the store keeps it. Defined once: the client
 * builds it, the server validates it, the store persists it.
 * Durations in milliseconds from a monotonic clock; rates in Mbit/s (10^6 bits per second).
 */

/** A day: no phase of one measurement may claim to take longer. */
const MAX_DURATION_MS = 86_400_000;
/** 1 Tbit/s: anything above is a lie or a bug. */
const MAX_RATE_MBPS = 1_000_000;
/** 10 minutes of 250 ms samples. */
export const MAX_SAMPLES = 2_400;
/** 1 TiB: ten minutes of duration mode at 1 Tbit/s is 75 GB; no test file is larger. */
const MAX_BYTES = 2 ** 40;
/** No netprobe result predates this (the project did not exist): an earlier start is a broken clock or a lie. */
export const EARLIEST_STARTED_AT_MS = Date.UTC(2020, 0, 1);
/** Results may start at most this far in the server's future (client clock skew). */
export const MAX_FUTURE_SKEW_MS = 10 * 60_000;
export const SAMPLE_INTERVAL_MS = 250;
/** Parallel streams of one measurement (--streams). */
export const MAX_STREAMS = 16;

const durationMs = z.number().finite().min(0).max(MAX_DURATION_MS);
const rateMbps = z.number().finite().min(0).max(MAX_RATE_MBPS);
const name = z.string().min(1).max(128);

export const resultErrorSchema = z.strictObject({
  code: z.string().min(1).max(64),
  message: z.string().max(1024),
});

export const resultSchema = z.strictObject({
  /** UUIDv7 made by the client: the idempotency key. */
  id: z.uuid(),
  /** Optional claim of the client's name; the server refuses it unless it equals the certificate CN. */
  client: name.optional(),
  /** host:port the client measured against. */
  server: z.string().min(1).max(300),
  file: name,
  mode: z.enum(['file', 'duration']),
  /** Wall-clock start, UTC, ISO 8601. */
  startedAt: z.iso.datetime({ offset: true }),
  /** Payload bytes received. */
  bytes: z.number().int().min(0).max(MAX_BYTES),
  dnsMs: durationMs.nullable(),
  connectMs: durationMs.nullable(),
  tlsMs: durationMs.nullable(),
  idleRttMs: durationMs.nullable(),
  /** GET_FILE sent to first byte of the answer. */
  responseMs: durationMs.nullable(),
  /** Latency: GET_FILE sent to last payload byte (download completion time). */
  downloadMs: durationMs.nullable(),
  /** First to last payload byte. */
  transferMs: durationMs.nullable(),
  /** bytes*8 / transferMs. */
  throughputMbps: rateMbps.nullable(),
  /** bytes*8 / downloadMs (includes the response time). */
  goodputMbps: rateMbps.nullable(),
  /** Median RTT of PINGs on a second connection while the transfer ran. */
  loadedRttMs: durationMs.nullable(),
  /** Throughput of each 250 ms interval of the transfer. */
  samplesMbps: z.array(rateMbps).max(MAX_SAMPLES),
  /** Client process CPU time (user+system) during the transfer. */
  cpuMs: durationMs.nullable(),
  /** The client's CPU, not the network, bounded the transfer. */
  clientLimited: z.boolean(),
  sha256Ok: z.boolean().nullable(),
  tlsVersion: z.string().max(32).nullable(),
  cipher: z.string().max(128).nullable(),
  /** BUSY answers received before this attempt got through. */
  busyRetries: z.number().int().min(0).max(1_000_000),
  error: resultErrorSchema.nullable(),
  /**
   * Which way the payload flowed: 'download' (server → client, the only one before protocol
   * capability 'upload'; absent means download) or 'upload' (client → server; the server timed the
   * transfer, so throughputMbps, transferMs and samplesMbps are the receiver's figures).
   */
  direction: z.enum(['download', 'upload']).optional(),
  /** Upload: the server's CPU, not the network, bounded the transfer (null: download or unknown). */
  serverLimited: z.boolean().nullable().optional(),
  /**
   * Responsiveness under load, round trips per minute (draft-ietf-ippm-responsiveness, the rule in
   * analysis/responsiveness.ts): the mean of rpmForeign and rpmSelf, or rpmForeign alone when there
   * are no self probes (and in results from clients before the 'self-ping' capability); null
   * without probes.
   */
  rpm: z.number().finite().min(0).max(60_000_000).nullable().optional(),
  /** Foreign probes: the PINGs on the separate connection, behind loadedRttMs and rpmForeign. */
  rpmProbes: z.number().int().min(0).max(1_000_000).optional(),
  /**
   * With capability 'self-ping' (absent otherwise): 60,000 ÷ the trimmed mean of the foreign
   * probes' RTT in ms, of the self probes' (PINGs on the loaded connections themselves, answered
   * between the payload's frames), and how many self probes there were (0: none could be taken,
   * e.g. a file-mode download, whose raw payload leaves no room for a PONG).
   */
  rpmForeign: z.number().finite().min(0).max(60_000_000).nullable().optional(),
  rpmSelf: z.number().finite().min(0).max(60_000_000).nullable().optional(),
  rpmSelfProbes: z.number().int().min(0).max(1_000_000).optional(),
  /**
   * Parallel streams (--streams N, N TLS connections to the same server; absent means 1). With N > 1,
   * throughputMbps is the aggregate over the streams' common interval (last stream's first payload
   * byte to first stream's last payload byte), transferMs that interval, bytes all streams' payload.
   */
  streams: z.number().int().min(1).max(MAX_STREAMS).optional(),
  /** With streams > 1: each stream's share of throughputMbps (its bytes in the common interval), by stream. */
  streamsMbps: z.array(rateMbps).max(MAX_STREAMS).optional(),
  /**
   * The measured connection resumed a TLS session (an abbreviated handshake: tlsMs is then not a
   * full handshake's time); false: a full handshake; absent or null: a client that does not say.
   */
  tlsResumed: z.boolean().nullable().optional(),
  /**
   * With capability 'tcp-info' (absent otherwise): the sending TCP's own view of the transfer, read
   * from its kernel (TCP_INFO, src/tcp-info.ts), the server's for a download and the client's for an
   * upload. tcpRttMs is the median of the kernel's smoothed RTT while the payload was written (timed from
   * each ACK, so no process wake-up is in it: the loaded RTT the flow itself sees); tcpRetransmits the
   * segments retransmitted meanwhile (all streams'). Null where the sender cannot read TCP_INFO.
   */
  tcpRttMs: durationMs.nullable().optional(),
  tcpRetransmits: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
});

export type Direction = 'download' | 'upload';
export const DIRECTIONS: readonly Direction[] = ['download', 'upload'];

/** A result's direction: results from clients before the 'upload' capability are downloads. */
export function directionOf(r: { direction?: Direction | undefined }): Direction {
  return r.direction ?? 'download';
}

export type Result = z.infer<typeof resultSchema>;
export type ResultError = z.infer<typeof resultErrorSchema>;

/** A result as stored: what the server adds at ingest. */
export interface StoredResult extends Result {
  client: string;
  receivedAt: string;
  /** Transfers the server was running when this client's download started (null when unknown). */
  serverConcurrentTransfers: number | null;
  /** Server's total outbound rate around that time, Mbit/s. */
  serverOutboundMbps: number | null;
}

/**
 * Why a result cannot be true, or undefined when it can: a start before netprobe existed or after
 * the receiver's clock plus skew, or more bytes than MAX_RATE_MBPS could move in the time claimed.
 * The schema bounds each field; this checks them against the clock and each other.
 */
export function implausibility(r: Result, nowMs: number): string | undefined {
  const startedAtMs = Date.parse(r.startedAt);
  if (startedAtMs < EARLIEST_STARTED_AT_MS) return `starts before 2020 (${r.startedAt})`;
  if (startedAtMs > nowMs + MAX_FUTURE_SKEW_MS) return `starts in the future (${r.startedAt})`;
  const spanMs = r.downloadMs ?? r.transferMs;
  // bytes*8 / (Mbit/s * 1e6) seconds; 1 ms of slack for timer granularity.
  if (spanMs !== null && ((r.bytes * 8) / (MAX_RATE_MBPS * 1e6)) * 1000 > spanMs + 1) {
    return `claims ${r.bytes} bytes in ${spanMs} ms (above ${MAX_RATE_MBPS / 1e6} Tbit/s)`;
  }
  return undefined;
}
