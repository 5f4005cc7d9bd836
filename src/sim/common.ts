/**
 * What both engines share: the options, the plan (certificates, span, schedules and caps), the
 * summary, and truth.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { parseSize } from '../server/catalogue.js';
import { type Ca, createCa, issueCert } from '../tls/pki.js';
import { DAY_MS, HOUR_MS } from './clock.js';
import { type HourTruth, truthVerdicts } from './model/truth.js';
import { type VirtualClientPlan, planFleet } from './plan.js';
import type { TruthForCheck } from './check.js';
import { type Incident, type Profile, backgroundOf, profileTruth } from './profile.js';

export type SimEngine = 'model' | 'real';

export interface SimOptions {
  profile: Profile;
  /** 'model' (default): the network is computed; 'real': real transfers on a compressed clock. */
  engine?: SimEngine;
  clients: number;
  /** Real duration of the run (real engine); with dayMs it sets the simulated span. */
  durationMs: number;
  /** Real duration of one simulated day (real engine). */
  dayMs: number;
  /** Simulated span; default durationMs / dayMs days. */
  spanMs?: number;
  seed: number;
  /** Where truth.json, the certificates and the outboxes go. */
  outDir: string;
  /** Store of the built-in server. */
  store: string;
  /** Simulated start (UTC ms); default: midnight UTC as many days ago as the run spans. */
  startMs?: number;
  file?: string;
  /** Shared link capacity at full availability, Mbit/s. */
  sharedMbps?: number;
  capMinMbps?: number;
  capMaxMbps?: number;
  /** Measurements per client per simulated hour at peak activity. */
  peakRatePerHour?: number;
  /** Real engine: the shared link is an htb-shaped veth in a network namespace (needs root), not a token bucket. */
  kernelLink?: boolean;
  /** Model engine: reporting lanes (TLS connections) to the server. */
  lanes?: number;
  logger?: Logger;
  /** Progress callback. */
  onProgress?: (p: SimProgress) => void;
  /**
   * Real engine: called when the server and every client (certificate, outbox) are ready, before
   * the simulated clock starts; the run waits for it.
   */
  onFleetReady?: (setupMs: number) => void | Promise<void>;
}

export interface SimProgress {
  simNowMs: number;
  fraction: number;
  activeClients: number;
  resultsMade: number;
  resultsStored: number;
}

export interface SimSummary {
  engine: SimEngine;
  truthPath: string;
  store: string;
  clients: number;
  measurementsPlanned: number;
  resultsMade: number;
  resultsStored: number;
  /** Made by a client but missing from the store (must be 0). */
  missing: number;
  skipped: number;
  outagesRun: number;
  /** Model engine: what the network did per hour of day. */
  truthHours?: HourTruth[];
}

export interface PreparedRun {
  startMs: number;
  spanMs: number;
  ca: Ca;
  certDir: string;
  plans: VirtualClientPlan[];
  outagesInSpan: number;
}

export function spanMsOf(o: SimOptions): number {
  return Math.round(o.spanMs ?? (o.durationMs / o.dayMs) * DAY_MS);
}

/** Plans the fleet and writes the CA and the server's certificate under OUT/certs. */
export async function prepareRun(o: SimOptions): Promise<PreparedRun> {
  const spanMs = spanMsOf(o);
  const startMs = o.startMs ?? Math.floor(Date.now() / DAY_MS) * DAY_MS - Math.ceil(spanMs / DAY_MS) * DAY_MS;
  const plans = planFleet(o.profile, {
    clients: o.clients,
    seed: o.seed,
    startMs,
    spanMs,
    peakRatePerHour: o.peakRatePerHour ?? 2,
    capMinMbps: o.capMinMbps ?? 10,
    capMaxMbps: o.capMaxMbps ?? 500,
  });
  await mkdir(o.outDir, { recursive: true });
  const ca = await createCa({ commonName: 'netprobe simulation CA' });
  const serverPem = await issueCert(ca, { commonName: 'localhost', usage: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const certDir = join(o.outDir, 'certs');
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'ca.crt'), ca.certPem);
  await writeFile(join(certDir, 'server.crt'), serverPem.certPem);
  await writeFile(join(certDir, 'server.key'), serverPem.keyPem, { mode: 0o600 });
  const outagesInSpan = o.profile.outages.filter((w) => w.startHour * HOUR_MS < spanMs).length;
  return { startMs, spanMs, ca, certDir, plans, outagesInSpan };
}

export const truthPathOf = (outDir: string): string => join(outDir, 'truth.json');

/** The verdicts in a truth.json the analyser is checked against (the model's when it has them, else the profile's). */
export function truthForCheck(truth: {
  busiestHour: number;
  congestedHours: number[];
  model?: { busiestHours: number[]; congestedHours: number[] } | null;
  incidents?: { cause: Incident['cause']; start: string; end: string; clientName?: string | null }[];
}): TruthForCheck {
  return {
    busiestHours: truth.model?.busiestHours ?? [truth.busiestHour],
    congestedHours: truth.model?.congestedHours ?? truth.congestedHours,
    incidents: (truth.incidents ?? []).map((i) => ({
      cause: i.cause,
      startMs: Date.parse(i.start),
      endMs: Date.parse(i.end),
      ...(i.clientName ? { client: i.clientName } : {}),
    })),
  };
}

export const fileSizeBytes = (name: string): number => parseSize(name);

/**
 * truth.json: what the profile said (busiest hour, congested hours by capacity, outages,
 * incidents) and, from the model engine, what the network did per hour and the verdicts drawn
 * from it (`model`), which are the ones the analyser is checked against.
 */
export async function writeTruth(
  o: SimOptions,
  run: PreparedRun,
  extra: { engine: SimEngine; network?: unknown; hours?: HourTruth[]; clients: unknown[] },
): Promise<string> {
  const { startMs, spanMs } = run;
  const said = profileTruth(o.profile);
  const at = (hours: number) => new Date(startMs + hours * HOUR_MS).toISOString();
  const inSpan = (w: { startHour: number }) => w.startHour * HOUR_MS < spanMs;
  const model = extra.hours ? truthVerdicts(extra.hours) : undefined;
  const truth = {
    engine: extra.engine,
    profile: o.profile.name,
    seed: o.seed,
    start: new Date(startMs).toISOString(),
    end: new Date(startMs + spanMs).toISOString(),
    timezone: 'UTC',
    busiestHour: said.busiestHour,
    mostCongestedHour: model ? model.mostCongestedHour : said.leastCapacityHour,
    congestedHours: model ? model.congestedHours : said.congestedHours,
    profileSaid: said,
    model,
    activity: o.profile.activity,
    capacity: o.profile.capacity,
    background: backgroundOf(o.profile),
    sharedLinkMbps: o.sharedMbps,
    network: extra.network,
    outages: o.profile.outages.filter(inSpan).map((w) => ({ start: at(w.startHour), end: at(w.endHour) })),
    incidents: o.profile.incidents.filter(inSpan).map((w) => ({
      ...w,
      start: at(w.startHour),
      end: at(w.endHour),
      ...(w.cause === 'access-link' ? { clientName: run.plans[w.client - 1]?.name ?? null } : {}),
    })),
    hours: extra.hours,
    clients: extra.clients,
  };
  const path = truthPathOf(o.outDir);
  await writeFile(path, `${JSON.stringify(truth, null, 2)}\n`);
  return path;
}
