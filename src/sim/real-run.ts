import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatEndpoint } from '../client/endpoint.js';
import { silentLogger } from '../log.js';
import { startServer, type RunningServer } from '../server/server.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/types.js';
import { issueCert } from '../tls/pki.js';
import { HOUR_MS, SimClock } from './clock.js';
import { type PreparedRun, type SimOptions, type SimSummary, writeTruth } from './common.js';
import { createFleet, measure, type VirtualClient } from './fleet.js';
import { type KernelLink, openKernelLink } from './kernel-link.js';
import { seededRandom } from './random.js';
import { PathShaper, TokenBucket, mbpsToBytesPerSec } from './shaper.js';

/** The real engine's shared link at full capacity: --shared-mbps, or 10 Mbit/s per client (at least 100). */
export const realSharedMbps = (o: SimOptions): number => o.sharedMbps ?? Math.max(100, o.clients * 10);

/** The kernel link's FIFO holds this much at full capacity (the model engine's shared buffer). */
const KERNEL_LINK_QUEUE_MS = 60;

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The real engine: the real server and real clients on loopback under a load profile on a
 * compressed clock (token buckets pace the transfers in real time), then checks that every result
 * a client made was stored exactly once, and writes truth.json.
 */
export async function runReal(o: SimOptions, run: PreparedRun): Promise<SimSummary> {
  const log = (o.logger ?? silentLogger).child({ component: 'sim' });
  const { startMs, spanMs, ca, certDir, plans } = run;
  const clock = new SimClock(startMs, o.dayMs);
  const sharedMbps = realSharedMbps(o);

  // The load model: a shared link whose capacity follows the profile, behind each client's access cap.
  const sharedAt = (simMs: number) => sharedMbps * o.profile.capacity[SimClock.hourOf(simMs)]!;
  const setupStartMs = performance.now();
  // --kernel-link: the shared link is an htb-shaped veth (its queue is the kernel's); else a token bucket.
  const link: KernelLink | undefined = o.kernelLink
    ? await openKernelLink({ rateMbps: sharedAt(startMs), queueMs: KERNEL_LINK_QUEUE_MS })
    : undefined;
  const shared = link ? [] : [new TokenBucket(() => mbpsToBytesPerSec(sharedAt(clock.now())), 64 * 1024)];
  const access = new Map(
    plans.map((p) => [p.name, new PathShaper([new TokenBucket(() => mbpsToBytesPerSec(p.capMbps), 32 * 1024), ...shared])]),
  );
  if (link) {
    // The clients connect to the namespace's address: the server's certificate must name it.
    const pem = await issueCert(run.ca, {
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', link.nsAddr, link.hostAddr],
    });
    await writeFile(join(certDir, 'server.crt'), pem.certPem);
    await writeFile(join(certDir, 'server.key'), pem.keyPem, { mode: 0o600 });
  }
  const store: Store = await openStore(o.store, { synchronous: 'normal' });
  const file = o.file ?? '1MiB';
  const serverConfig = {
    host: link?.hostAddr ?? '127.0.0.1',
    port: 0,
    ca: join(certDir, 'ca.crt'),
    cert: join(certDir, 'server.crt'),
    key: join(certDir, 'server.key'),
    store: o.store,
    builtinFiles: [file],
    statsIntervalMs: 0,
    maxConcurrentTransfers: 1_000,
    maxConnectionsPerClient: 8,
    serverId: 'netprobe-sim',
  };
  const serverDeps = { logger: o.logger, store, now: clock.now, shaperFor: (client: string) => access.get(client) };
  let server: RunningServer | undefined = await startServer(serverConfig, serverDeps);
  const port = server.port;
  const clientEndpoint = link ? { host: link.nsAddr, port: await link.forward(port) } : { host: '127.0.0.1', port };
  const fleet: VirtualClient[] = await createFleet({
    plans,
    ca,
    server: clientEndpoint,
    file,
    outboxDir: join(o.outDir, 'outboxes'),
    clock,
    logger: o.logger ?? silentLogger,
    random: seededRandom(o.seed + 1),
  });
  const setupMs = performance.now() - setupStartMs;
  await o.onFleetReady?.(setupMs);
  // Setting up the fleet takes real seconds (more on a busy machine): a clock started before it
  // would have passed simulated hours meanwhile, whose measurements would all be due at once.
  clock.start();
  log.info(
    {
      clients: o.clients,
      setupMs: Math.round(setupMs),
      profile: o.profile.name,
      server: formatEndpoint(clientEndpoint),
      kernelLink: link?.hostIf,
      start: new Date(startMs).toISOString(),
      spanHours: spanMs / HOUR_MS,
    },
    'simulation started',
  );

  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  for (const v of fleet) {
    for (const at of v.plan.measurementsAtMs) {
      timers.push(
        setTimeout(() => {
          const p = measure(v).catch((err: unknown) => log.error({ client: v.plan.name, err }, 'measurement crashed'));
          running.add(p);
          void p.finally(() => running.delete(p));
        }, clock.realDelayUntil(at)),
      );
    }
  }
  // The kernel link's rate follows the profile: one `tc class change` at each simulated hour.
  if (link) {
    for (let h = 1; h * HOUR_MS < spanMs; h++) {
      const at = startMs + h * HOUR_MS;
      timers.push(
        setTimeout(
          () => void link.setRateMbps(sharedAt(at)).catch((err: unknown) => log.error({ err }, 'kernel link: rate change failed')),
          clock.realDelayUntil(at),
        ),
      );
    }
  }
  // Outage windows: the server goes away and comes back on the same port.
  let outagesRun = 0;
  for (const outage of o.profile.outages) {
    const downAt = startMs + outage.startHour * HOUR_MS;
    const upAt = startMs + outage.endHour * HOUR_MS;
    if (downAt >= startMs + spanMs) continue;
    timers.push(
      setTimeout(() => {
        outagesRun++;
        log.info({ at: new Date(clock.now()).toISOString() }, 'outage: server down');
        const s = server;
        server = undefined;
        void s?.close(0);
      }, clock.realDelayUntil(downAt)),
    );
    timers.push(
      setTimeout(
        () => {
          void startServer({ ...serverConfig, port }, serverDeps).then((s) => {
            server = s;
            log.info({ at: new Date(clock.now()).toISOString() }, 'outage over: server up');
          });
        },
        clock.realDelayUntil(Math.min(upAt, startMs + spanMs - 1)),
      ),
    );
  }

  const made = () => fleet.reduce((n, v) => n + v.made.length, 0);
  const progress = setInterval(() => {
    void store.countResults().then((stored) =>
      o.onProgress?.({
        simNowMs: clock.now(),
        fraction: Math.min(1, (clock.now() - startMs) / spanMs),
        activeClients: fleet.filter((v) => v.busy).length,
        resultsMade: made(),
        resultsStored: stored,
      }),
    );
  }, 1_000);
  try {
    await realSleep(o.durationMs);
    for (const t of timers) clearTimeout(t);
    await Promise.all(running);
    while (!server) await realSleep(50);
    // Every client reports what its outbox still holds, then stops.
    const outcomes = await Promise.all(fleet.map((v) => v.client.stop()));
    const unsent = outcomes.reduce((n, r) => n + r.remaining, 0);
    if (unsent > 0) log.warn({ unsent }, 'results left in client outboxes');
  } finally {
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    await server?.close(5_000);
  }
  const kernelLinkSentBytes = await link?.sentBytes();
  await link?.close();

  let missing = 0;
  for (const v of fleet) for (const id of v.made) if (!(await store.hasResult(id))) missing++;
  const resultsStored = await store.countResults();
  await store.close();

  const truthPath = await writeTruth({ ...o, sharedMbps }, run, {
    engine: 'real',
    network: link
      ? { sharedLink: 'kernel', qdisc: 'htb', queueMs: KERNEL_LINK_QUEUE_MS, sentBytes: kernelLinkSentBytes }
      : { sharedLink: 'token-bucket' },
    clients: fleet.map((v) => ({
      name: v.plan.name,
      capMbps: v.plan.capMbps,
      planned: v.plan.measurementsAtMs.length,
      made: v.made.length,
      skipped: v.skipped,
    })),
  });
  const summary: SimSummary = {
    engine: 'real',
    truthPath,
    store: o.store,
    clients: o.clients,
    measurementsPlanned: plans.reduce((n, p) => n + p.measurementsAtMs.length, 0),
    resultsMade: made(),
    resultsStored,
    missing,
    skipped: fleet.reduce((n, v) => n + v.skipped, 0),
    outagesRun,
  };
  log.info(summary, 'simulation finished');
  return summary;
}
