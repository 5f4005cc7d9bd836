/**
 * The model engine's run: the network is computed (model/engine.ts), the results are real: they go
 * through the real outbox and reporter, over mutual TLS, to a real server and into the real store.
 * The simulated clock never waits for a transfer; ingest, not the model, bounds the run time.
 */
import { silentLogger } from '../log.js';
import type { LoadAnnotation } from '../server/load.js';
import { openStore } from '../store/open.js';
import { issueCert } from '../tls/pki.js';
import { HOUR_MS } from './clock.js';
import { ReportLanes } from './lanes.js';
import { annotationKey, startModelServer } from './model-server.js';
import { ModelEngine } from './model/engine.js';
import { DEFAULT_NETWORK } from './model/network.js';
import { toResult } from './model/result.js';
import { hoursOfDay } from './model/truth.js';
import { inOutage } from './plan.js';
import { seededRandom } from './random.js';
import { type PreparedRun, type SimOptions, type SimSummary, fileSizeBytes, writeTruth } from './common.js';

/** The simulator's reporting certificate (ReportDelegation.reporter) and its virtual clients' prefix. */
export const SIM_REPORTER = 'netprobe-simulator';
export const SIM_CLIENT_PREFIX = 'sim-';
/** Results produced before the lanes are flushed (one REPORT pass). */
const FLUSH_EVERY_RESULTS = 8_000;

export async function runModel(o: SimOptions, run: PreparedRun): Promise<SimSummary> {
  const log = (o.logger ?? silentLogger).child({ component: 'sim' });
  const { startMs, spanMs, ca, certDir, plans } = run;
  const file = o.file ?? '1MiB';
  const sizeBytes = fileSizeBytes(file);
  const params = { ...DEFAULT_NETWORK, ...(o.sharedMbps === undefined ? {} : { sharedMbps: o.sharedMbps, serverMbps: 2 * o.sharedMbps }) };
  const engine = new ModelEngine({ profile: o.profile, params, plans, startMs, spanMs, sizeBytes, seed: o.seed });

  // The server's view of its own (simulated) load, handed over per result before it is reported.
  let annotations: [string, LoadAnnotation][] = [];
  const store = await openStore(o.store, { synchronous: 'normal' });
  const storedBefore = await store.countResults();
  const server = await startModelServer({
    certDir,
    store: o.store,
    file,
    reporter: SIM_REPORTER,
    clientPrefix: SIM_CLIENT_PREFIX,
    logger: o.logger ?? silentLogger,
  });
  server.setNow(startMs);
  const flush = async () => {
    await server.annotate(annotations);
    annotations = [];
    await lanes.flush();
  };
  const reporterPem = await issueCert(ca, { commonName: SIM_REPORTER, usage: 'client' });
  const lanes = new ReportLanes({
    count: o.lanes ?? 4,
    server: { host: '127.0.0.1', port: server.port },
    tls: { ca: Buffer.from(ca.certPem), cert: Buffer.from(reporterPem.certPem), key: Buffer.from(reporterPem.keyPem) },
    logger: o.logger ?? silentLogger,
    random: seededRandom(o.seed + 2),
    capacity: 1_000_000,
  });
  log.info(
    {
      engine: 'model',
      clients: plans.length,
      profile: o.profile.name,
      start: new Date(startMs).toISOString(),
      spanHours: spanMs / HOUR_MS,
    },
    'simulation started',
  );

  const ids: string[] = [];
  const madePerClient = new Int32Array(plans.length);
  const idRandom = seededRandom(o.seed + 3);
  const serverName = `127.0.0.1:${server.port}`;
  let pending = 0;
  const take = (measurements: ReturnType<ModelEngine['advanceTo']>) => {
    const batch = measurements.map((m) => {
      const clientName = plans[m.client]!.name;
      const result = toResult(m, { clientName, server: serverName, file, random: idRandom });
      ids.push(result.id);
      madePerClient[m.client]!++;
      if (m.serverConcurrentTransfers !== null) {
        annotations.push([
          annotationKey(clientName, Date.parse(result.startedAt)),
          {
            serverConcurrentTransfers: m.serverConcurrentTransfers,
            serverOutboundMbps: m.serverOutboundMbps === null ? null : Math.round(m.serverOutboundMbps * 1000) / 1000,
          },
        ]);
      }
      return { clientIndex: m.client, result };
    });
    lanes.add(batch);
    pending += batch.length;
  };
  const endMs = startMs + spanMs;
  try {
    for (let t = startMs + HOUR_MS; ; t = Math.min(endMs, t + HOUR_MS)) {
      take(engine.advanceTo(t));
      server.setNow(t);
      // The outbox keeps what is made while the server is down; it is reported once it is back.
      if (pending >= FLUSH_EVERY_RESULTS && !inOutage(o.profile, startMs, t - 1)) {
        pending = 0;
        await flush();
      }
      o.onProgress?.({
        simNowMs: t,
        fraction: (t - startMs) / spanMs,
        activeClients: engine.busy,
        resultsMade: ids.length,
        resultsStored: ids.length - lanes.unsent(),
      });
      if (t >= endMs) break;
    }
    // Measurements still running at the end finish (no new ones start).
    take(engine.advanceTo(Infinity));
    server.setNow(Math.max(endMs, Math.ceil(engine.nowMs)));
    for (let attempt = 0; attempt < 5 && lanes.unsent() > 0; attempt++) await flush();
    const unsent = lanes.unsent();
    if (unsent > 0) log.warn({ unsent }, "results left in the lanes' outboxes");
  } finally {
    await lanes.close();
    await server.close();
  }

  // Only the lanes write to this server, every id is new and the store keeps an id once: when the
  // store grew by exactly the results made, each one is there once. Otherwise look each one up.
  const resultsStored = await store.countResults();
  let missing = 0;
  if (resultsStored - storedBefore !== ids.length) for (const id of ids) if (!(await store.hasResult(id))) missing++;
  await store.close();

  const truthHours = hoursOfDay(engine.hours, startMs, HOUR_MS);
  const truthPath = await writeTruth(o, run, {
    engine: 'model',
    network: params,
    hours: truthHours,
    clients: plans.map((p, i) => ({
      name: p.name,
      capMbps: p.capMbps,
      baseRttMs: p.baseRttMs,
      planned: p.measurementsAtMs.length,
      made: madePerClient[i]!,
    })),
  });
  const summary: SimSummary = {
    engine: 'model',
    truthPath,
    store: o.store,
    clients: plans.length,
    measurementsPlanned: engine.planned,
    resultsMade: ids.length,
    resultsStored,
    missing,
    skipped: engine.skipped,
    outagesRun: run.outagesInSpan,
    truthHours,
  };
  log.info({ ...summary, truthHours: undefined }, 'simulation finished');
  return summary;
}
