import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { NetprobeClient } from '../client/client.js';
import type { Endpoint } from '../client/endpoint.js';
import type { Timers } from '../client/timers.js';
import type { Logger } from '../log.js';
import type { Result } from '../protocol/result.js';
import { type Ca, issueCert } from '../tls/pki.js';
import type { SimClock } from './clock.js';
import type { VirtualClientPlan } from './plan.js';

/** One virtual client: the real client code with its own certificate and outbox. */
export interface VirtualClient {
  plan: VirtualClientPlan;
  client: NetprobeClient;
  /** Ids of every result it made (measured or failed), in order. */
  made: string[];
  busy: boolean;
  /** A measurement planned while busy runs right after (at most one waits; more are skipped). */
  deferred: boolean;
  skipped: number;
}

export interface FleetOptions {
  plans: readonly VirtualClientPlan[];
  ca: Ca;
  server: Endpoint;
  file: string;
  outboxDir: string;
  clock: SimClock;
  logger: Logger;
  /** Seeded randomness for jitter inside the clients. */
  random: () => number;
}

/** Issues a certificate per virtual client and builds its client (outbox file per client). */
export async function createFleet(o: FleetOptions): Promise<VirtualClient[]> {
  await mkdir(o.outboxDir, { recursive: true });
  // Timestamps follow the simulated clock; waits stay real.
  const timers: Timers = {
    now: o.clock.now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
  const fleet: VirtualClient[] = [];
  for (const plan of o.plans) {
    const pem = await issueCert(o.ca, { commonName: plan.name, usage: 'client' });
    const made: string[] = [];
    const client = new NetprobeClient(
      {
        servers: [o.server],
        tls: { ca: Buffer.from(o.ca.certPem), cert: Buffer.from(pem.certPem), key: Buffer.from(pem.keyPem) },
        file: o.file,
        schedule: { kind: 'interval', intervalMs: 60_000, jitter: 0 },
        outboxPath: join(o.outboxDir, `${plan.name}.db`),
        reportBackoffBaseMs: 250,
        reportBackoffMaxMs: 2_000,
        serverRetryBaseMs: 250,
        probe: { idlePings: 3, loadedPingIntervalMs: 100, maxBusyWaitMs: 1_000 },
      },
      { logger: o.logger, timers, random: o.random, onResult: (r: Result) => made.push(r.id) },
    );
    fleet.push({ plan, client, made, busy: false, deferred: false, skipped: 0 });
  }
  return fleet;
}

/**
 * One planned measurement. A virtual client is one user: when a measurement is due while the last
 * one still runs, it runs right after (time compression makes slow transfers span simulated hours,
 * and dropping those runs would thin out exactly the congested hours); a third is skipped and counted.
 */
export async function measure(v: VirtualClient): Promise<void> {
  if (v.busy) {
    if (v.deferred) v.skipped++;
    else v.deferred = true;
    return;
  }
  v.busy = true;
  try {
    do {
      v.deferred = false;
      await v.client.measure();
    } while (v.deferred);
  } finally {
    v.busy = false;
  }
}
