/**
 * The simulated network at one moment: the shared link's capacity and background traffic, the
 * server's capacity and its other transfers, each client's access cap; and what a link's load does
 * to its queue. Pure functions of the profile and the simulated time.
 */
import { HOUR_MS, SimClock } from '../clock.js';
import { type Incident, type Profile, backgroundOf } from '../profile.js';

export interface NetworkParams {
  /** Shared link capacity at full availability, Mbit/s. */
  sharedMbps: number;
  /** The server's outbound capacity, Mbit/s. */
  serverMbps: number;
  /** Each background flow's own limit on the shared link (the other users' access links), Mbit/s. */
  backgroundFlowMbps: number;
  /** Each of the server's other transfers' own limit, Mbit/s. */
  serverOtherFlowMbps: number;
  /** Queueing delay of a full shared link (its buffer), ms. */
  sharedBufferMs: number;
  /** Queueing delay of a full access link (home router buffer: bufferbloat), ms. */
  accessBufferMs: number;
  /** Queueing delay at a saturated server, ms. */
  serverBufferMs: number;
  /** Server CPU per TLS handshake when idle, ms. */
  serverHandshakeMs: number;
  /** TCP initial window (IW10 × 1460-byte MSS). */
  initialWindowBytes: number;
  /** A transfer still running after this long fails (the real client's total timeout). */
  transferTimeoutMs: number;
}

export const DEFAULT_NETWORK: NetworkParams = {
  sharedMbps: 1_000,
  serverMbps: 2_000,
  backgroundFlowMbps: 20,
  serverOtherFlowMbps: 50,
  sharedBufferMs: 60,
  accessBufferMs: 30,
  serverBufferMs: 20,
  serverHandshakeMs: 1,
  initialWindowBytes: 14_600,
  transferTimeoutMs: 600_000,
};

/** Conditions that hold for a whole segment of simulated time (between two change points). */
export interface Conditions {
  sharedCapacityMbps: number;
  /** Background flows on the shared link (fractional: a fluid). */
  backgroundFlows: number;
  serverCapacityMbps: number;
  serverOtherTransfers: number;
  /** Per 1-based client: the share of its access cap left, for clients under an access incident. */
  accessFactor: ReadonlyMap<number, number>;
  outage: boolean;
}

const within = (w: { startHour: number; endHour: number }, hoursFromStart: number) =>
  hoursFromStart >= w.startHour && hoursFromStart < w.endHour;

export function conditionsAt(profile: Profile, params: NetworkParams, startMs: number, simMs: number): Conditions {
  const h = SimClock.hourOf(simMs);
  const sinceStartHours = (simMs - startMs) / HOUR_MS;
  let sharedFactor = 1;
  let serverOtherTransfers = 0;
  const accessFactor = new Map<number, number>();
  for (const i of profile.incidents) {
    if (!within(i, sinceStartHours)) continue;
    if (i.cause === 'shared-link') sharedFactor = Math.min(sharedFactor, i.remaining);
    else if (i.cause === 'access-link') accessFactor.set(i.client, Math.min(accessFactor.get(i.client) ?? 1, i.remaining));
    else serverOtherTransfers += i.extraTransfers;
  }
  return {
    sharedCapacityMbps: params.sharedMbps * profile.capacity[h]! * sharedFactor,
    backgroundFlows: (backgroundOf(profile)[h]! * params.sharedMbps) / params.backgroundFlowMbps,
    serverCapacityMbps: params.serverMbps,
    serverOtherTransfers,
    accessFactor,
    outage: profile.outages.some((o) => within(o, sinceStartHours)),
  };
}

/** Simulated times after `fromMs` and before `toMs` where the conditions change: hour tops, incident and outage edges. */
export function changePoints(profile: Profile, startMs: number, fromMs: number, toMs: number): number[] {
  const points = new Set<number>();
  for (let t = Math.floor(fromMs / HOUR_MS + 1) * HOUR_MS; t < toMs; t += HOUR_MS) points.add(t);
  const edges = (w: Incident | { startHour: number; endHour: number }) => [w.startHour, w.endHour].map((hh) => startMs + hh * HOUR_MS);
  for (const w of [...profile.outages, ...profile.incidents])
    for (const t of edges(w)) if (t > fromMs && t < toMs) points.add(Math.round(t));
  return [...points].sort((a, b) => a - b);
}

/**
 * Queueing delay of a link, ms: a link that is some flow's bottleneck is full (TCP keeps its buffer
 * full); otherwise an M/M/1 wait for 1500-byte packets at its utilisation, at most the buffer.
 */
export function queueDelayMs(saturated: boolean, loadMbps: number, capacityMbps: number, bufferMs: number): number {
  if (saturated) return bufferMs;
  if (capacityMbps <= 0) return bufferMs;
  const rho = Math.min(0.999, loadMbps / capacityMbps);
  const packetMs = (1500 * 8) / (capacityMbps * 1000);
  return Math.min(bufferMs, (rho / (1 - rho)) * packetMs);
}

/**
 * TCP slow start from the initial window toward `rateMbps` over `rttMs`: the rounds it takes to
 * reach that rate, and the bytes sent meanwhile (the window doubles each round).
 */
export function slowStart(rateMbps: number, rttMs: number, initialWindowBytes: number): { rounds: number; bytes: number } {
  const targetWindowBytes = (rateMbps * 1e6 * rttMs) / 8 / 1000;
  const rounds = targetWindowBytes <= initialWindowBytes ? 0 : Math.ceil(Math.log2(targetWindowBytes / initialWindowBytes));
  return { rounds, bytes: initialWindowBytes * (2 ** rounds - 1) };
}

/** Rounds of slow start needed to send `bytes` from the initial window. */
export function roundsFor(bytes: number, initialWindowBytes: number): number {
  return Math.max(1, Math.ceil(Math.log2(bytes / initialWindowBytes + 1)));
}
