/**
 * Fair share under a flood (issue 17): an honest client's REPORT ACK latency (p50, p99) and
 * REPORTs per second (offered: one of 5 results every 150 ms, within its budget), alone and beside a client that floods 1,000-result REPORTs and ignores
 * retry-after. Server: the built CLI, --workers auto, default budgets. Rows give the ratio.
 *
 *   flock /tmp/netprobe-bench.lock node --import tsx bench/hostile.ts [--quick]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeMessage } from '../src/protocol/messages.js';
import { WireClient, sampleResult } from '../test/helpers/wire.js';
import { QUICK, type BenchRow, execFileAsync, printTable, spawnReady, writeResult } from './lib.js';

const CLI = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));
const PHASE_MS = QUICK ? 5_000 : 20_000;
const FLOODERS = 2;
const PACE_MS = 150;

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

const dir = await mkdtemp(join(tmpdir(), 'netprobe-hostile-'));
try {
  const certs = join(dir, 'certs');
  await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', certs]);
  for (const name of ['honest', 'mallory']) await execFileAsync(process.execPath, [CLI, 'certs', 'client', name, '--dir', certs]);
  const paths = (name: string) => ({
    ca: join(certs, 'ca.crt'),
    cert: join(certs, 'clients', `${name}.crt`),
    key: join(certs, 'clients', `${name}.key`),
  });
  const { child, line } = await spawnReady(
    process.execPath,
    [
      CLI,
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--store',
      join(dir, 'b.db'),
      '--stats-interval',
      '0',
      '--builtin-files',
      '1KiB',
      '--ca',
      join(certs, 'ca.crt'),
      '--cert',
      join(certs, 'server.crt'),
      '--key',
      join(certs, 'server.key'),
    ],
    (l) => l.includes('"msg":"listening"'),
    30_000,
  );
  const port = (JSON.parse(line) as { port: number }).port;

  const honestPhase = async (): Promise<{ latencies: number[]; perSecond: number; busy: number }> => {
    const c = await WireClient.connect(port, paths('honest'));
    await c.hello();
    const latencies: number[] = [];
    let busy = 0;
    const t0 = performance.now();
    for (let n = 0; performance.now() - t0 < PHASE_MS; n++) {
      // Paced within its own budget (5 results every 150 ms: 2,000 a minute of the 3,000).
      const waitMs = t0 + n * PACE_MS - performance.now();
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      const t = performance.now();
      c.send({ type: 'REPORT', results: Array.from({ length: 5 }, () => sampleResult()) });
      const reply = await c.next();
      if (reply?.type === 'ACK') latencies.push(performance.now() - t);
      else busy++;
    }
    c.close();
    return { latencies, perSecond: latencies.length / ((performance.now() - t0) / 1000), busy };
  };

  const alone = await honestPhase();
  let stop = false;
  const frames = Array.from({ length: 4 }, () =>
    encodeMessage({ type: 'REPORT', results: Array.from({ length: 1000 }, () => sampleResult({ file: 'junk' })) }),
  );
  let floodReplies = 0;
  const flooders = Array.from({ length: FLOODERS }, async (_, i) => {
    while (!stop) {
      const c = await WireClient.connect(port, paths('mallory'));
      await c.hello();
      for (let n = 0; !stop && !c.ended; n++) {
        c.sendRaw(frames[(i + n) % frames.length]!);
        if ((await c.next()) === undefined) break;
        floodReplies++;
      }
      c.close();
    }
  });
  const flooded = await honestPhase();
  stop = true;
  child.kill('SIGTERM');
  await Promise.allSettled(flooders);
  await new Promise((resolve) => child.once('exit', resolve));

  const p = (xs: number[], q: number) => Math.round(quantile(xs, q) * 100) / 100;
  const rows: BenchRow[] = [
    {
      bench: 'hostile',
      metric: 'honest REPORT (5 results) ACK p50, alone → beside a flooding client',
      netprobe: p(flooded.latencies, 0.5),
      reference: p(alone.latencies, 0.5),
      referenceName: 'alone',
      ratio: p(flooded.latencies, 0.5) / p(alone.latencies, 0.5),
      unit: 'ms (lower is better)',
    },
    {
      bench: 'hostile',
      metric: 'honest REPORT ACK p99, alone → beside a flooding client',
      netprobe: p(flooded.latencies, 0.99),
      reference: p(alone.latencies, 0.99),
      referenceName: 'alone',
      ratio: p(flooded.latencies, 0.99) / p(alone.latencies, 0.99),
      unit: 'ms (lower is better)',
    },
    {
      bench: 'hostile',
      metric: 'honest REPORTs ACKed per second, beside a flooding client ÷ alone',
      netprobe: Math.round(flooded.perSecond),
      reference: Math.round(alone.perSecond),
      referenceName: 'alone',
      ratio: flooded.perSecond / alone.perSecond,
      unit: 'REPORT/s (higher is better)',
    },
  ];
  printTable(rows);
  await writeResult('hostile', rows, {
    cores: cpus().length,
    loadAverage1m: loadavg()[0],
    phaseMs: PHASE_MS,
    flooders: FLOODERS,
    floodReplies,
    honestBusy: [alone.busy, flooded.busy],
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
