/**
 * Calibration of the model engine against real TCP (docs/simulator.md; ../shared/SIMULATOR.md):
 * the same small scenario run twice, per-flow throughput and transfer time compared.
 *
 * Scenario: 4 clients with access caps 20, 40, 80, 100 Mbit/s download 8 MiB each, starting 0.5 s
 * apart, through one shared link of 50 Mbit/s. Max-min by hand: the first runs alone at 20, the
 * second joins at 30, then three share at 16.7, four at 12.5.
 * - real: the real server and the real probe over TLS; the shared link is the kernel link of
 *   `simulate --kernel-link` (a veth into a network namespace, htb at 50 Mbit/s, 60 ms FIFO), each
 *   client's cap a token bucket in the server, as in the real engine. Needs root and iproute2.
 * - model: the model engine (src/sim/model) with the same caps and starts, a 1 ms base RTT, no
 *   background traffic, the server unconstrained.
 * Tolerance stated: each flow's throughput and transfer time within ±15 %. Without root and
 * iproute2 it writes a skipped result and exits 0.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '../src/client/probe.js';
import { startServer } from '../src/server/server.js';
import { HOUR_MS } from '../src/sim/clock.js';
import { kernelLinkUnavailable, openKernelLink } from '../src/sim/kernel-link.js';
import { ModelEngine } from '../src/sim/model/engine.js';
import { DEFAULT_NETWORK } from '../src/sim/model/network.js';
import { BUILTIN_PROFILES, type Profile } from '../src/sim/profile.js';
import { PathShaper, TokenBucket, mbpsToBytesPerSec } from '../src/sim/shaper.js';
import { openStore } from '../src/store/open.js';
import { createCa, issueCert } from '../src/tls/pki.js';
import { type BenchRow, printTable, writeResult } from './lib.js';

const CAPS_MBPS = [20, 40, 80, 100];
const START_GAP_MS = 500;
const LINK_MBPS = 50;
const FILE = '8MiB';
const SIZE_BYTES = 8 * 1024 * 1024;
const TOLERANCE = 0.15;

interface Flow {
  throughputMbps: number;
  transferMs: number;
}

function model(): Flow[] {
  const profile: Profile = { ...BUILTIN_PROFILES.flat!, background: Array<number>(24).fill(0) };
  const startMs = 0;
  const plans = CAPS_MBPS.map((capMbps, i) => ({
    name: `c${i}`,
    capMbps,
    baseRttMs: 1,
    measurementsAtMs: [startMs + 60_000 + i * START_GAP_MS],
  }));
  const engine = new ModelEngine({
    profile,
    params: { ...DEFAULT_NETWORK, sharedMbps: LINK_MBPS, serverMbps: 100 * LINK_MBPS },
    plans,
    startMs,
    spanMs: HOUR_MS,
    sizeBytes: SIZE_BYTES,
    seed: 1,
  });
  const flows: Flow[] = [];
  for (const m of engine.advanceTo(Infinity))
    flows[m.client] = { transferMs: m.transferMs!, throughputMbps: (SIZE_BYTES * 8) / (m.transferMs! * 1000) };
  return flows;
}

async function real(): Promise<Flow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-calibrate-'));
  const link = await openKernelLink({ rateMbps: LINK_MBPS, queueMs: 60 });
  try {
    const ca = await createCa({ commonName: 'calibration CA' });
    const serverPem = await issueCert(ca, {
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      ipAddresses: [link.nsAddr, link.hostAddr],
    });
    await writeFile(join(dir, 'ca.crt'), ca.certPem);
    await writeFile(join(dir, 'server.crt'), serverPem.certPem);
    await writeFile(join(dir, 'server.key'), serverPem.keyPem, { mode: 0o600 });
    const storePath = join(dir, 'calibrate.db');
    const store = await openStore(storePath);
    const shapers = new Map(
      CAPS_MBPS.map((cap, i) => [`c${i}`, new PathShaper([new TokenBucket(() => mbpsToBytesPerSec(cap), 32 * 1024)])]),
    );
    const server = await startServer(
      {
        host: link.hostAddr,
        port: 0,
        ca: join(dir, 'ca.crt'),
        cert: join(dir, 'server.crt'),
        key: join(dir, 'server.key'),
        store: storePath,
        builtinFiles: [FILE],
        statsIntervalMs: 0,
      },
      { store, shaperFor: (client: string) => shapers.get(client) },
    );
    try {
      const endpoint = { host: link.nsAddr, port: await link.forward(server.port) };
      const clients = await Promise.all(
        CAPS_MBPS.map(async (_, i) => ({ name: `c${i}`, pem: await issueCert(ca, { commonName: `c${i}`, usage: 'client' }) })),
      );
      const results = await Promise.all(
        clients.map(async (c, i) => {
          await new Promise((r) => setTimeout(r, i * START_GAP_MS));
          const { result } = await probe({
            endpoint,
            file: FILE,
            clientName: c.name,
            idlePings: 3,
            loadedPingIntervalMs: 0,
            tls: { ca: Buffer.from(ca.certPem), cert: Buffer.from(c.pem.certPem), key: Buffer.from(c.pem.keyPem) },
          });
          if (result.error) throw new Error(`${c.name}: ${result.error.code} ${result.error.message}`);
          return { transferMs: result.downloadMs!, throughputMbps: result.throughputMbps! };
        }),
      );
      return results;
    } finally {
      await server.close(5_000);
      await store.close();
    }
  } finally {
    await link.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchCalibrate(): Promise<BenchRow[]> {
  const why = await kernelLinkUnavailable();
  if (why) {
    process.stdout.write(`calibrate: skipped: ${why}\n`);
    await writeResult('calibrate', [], { skipped: why });
    return [];
  }
  const m = model();
  const r = await real();
  const rows: BenchRow[] = [];
  const target = `±${TOLERANCE * 100} %`;
  CAPS_MBPS.forEach((cap, i) => {
    const label = `flow ${i + 1} (cap ${cap} Mbit/s, starts at ${(i * START_GAP_MS) / 1000} s)`;
    rows.push({
      bench: 'calibrate',
      metric: `${label}: throughput, real TCP vs model`,
      netprobe: r[i]!.throughputMbps,
      reference: m[i]!.throughputMbps,
      ratio: r[i]!.throughputMbps / m[i]!.throughputMbps,
      unit: 'Mbit/s',
      target,
    });
    rows.push({
      bench: 'calibrate',
      metric: `${label}: transfer time, real TCP vs model`,
      netprobe: r[i]!.transferMs,
      reference: m[i]!.transferMs,
      ratio: r[i]!.transferMs / m[i]!.transferMs,
      unit: 'ms',
      target,
    });
  });
  await writeResult('calibrate', rows, {
    scenario: { capsMbps: CAPS_MBPS, startGapMs: START_GAP_MS, linkMbps: LINK_MBPS, file: FILE, tolerance: TOLERANCE },
    real: r,
    model: m,
  });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) printTable(await benchCalibrate());
