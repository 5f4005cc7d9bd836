/**
 * Accuracy over a real shaped link: a network namespace of our own joined by a veth pair, its
 * egress shaped by tbf to 50 Mbit/s. The netprobe server, an independent HTTPS server (node's https
 * module) and an iperf3 server run inside it; from the host, in turns:
 * - netprobe's probe() and curl download the same file: within ±5 % of each other;
 * - `--streams 4` against `iperf3 -R -P 4` (the same bytes in all): within ±8 %;
 * - an upload (the host's egress shaped instead) against iperf3 client → server: within ±8 %;
 * - at 10 Mbit/s, `--streams 4` download and upload: every run within ±2 % of the link's payload
 *   rate (the aggregate is timed by our TCP's delivery curves, as receiver and as sender; the
 *   process's arrival times read 9.71–9.93 Mbit/s for downloads and the server's 9.59–10.19 for
 *   uploads, up to +6.5 %, as the receiving TCP held bytes behind each lost segment);
 * - at 10 Mbit/s, loaded RTT against the idle RTT plus the tbf backlog a PONG joining the queue waits
 *   for (bench/netns.ts `joiningWaitBytes`) ÷ rate, sampled during the download: within 0.5–1.5× (median of the runs' ratios);
 *   there and in the upload case, RPM is a finite figure reported with its probe counts (> 0).
 * Every reference is measured in the same run over the same link, so a busy machine moves both.
 *
 * Needs root and iproute2 (and iperf3 for its two cases): skipped (with the reason) elsewhere,
 * failed instead under CI=true.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type Netns, createNetns, icmpIdleMs, icmpProber, netnsUnavailable, probesDuring, withBacklog } from '../../bench/netns.js';
import { type ProbeConfig, probe } from '../../src/client/probe.js';
import type { Result } from '../../src/protocol/result.js';
import { createCa, issueCert } from '../../src/tls/pki.js';
import { CLI } from '../helpers/process.js';

const execFileAsync = promisify(execFile);
const RATE_MBPS = 50;
const SECONDS = 2;
const RUNS = 3;
const TOLERANCE = 0.05;
/** Against iperf3 (another program's TCP sender/receiver, a busy machine): ±8 %. */
const IPERF_TOLERANCE = 0.08;
const STREAMS = 4;
const LOW_RATE_MBPS = 10;
/**
 * The 10 Mbit/s `--streams 4` transfer lasts this long: a stream that waits out retransmission
 * timeouts may start 1–2 s late, and the common interval is what is left.
 */
const LOW_STREAMS_SECONDS = 4;
/** TCP payload per byte on the wire: 1448 payload bytes per 1514-byte frame (timestamps on). */
const PAYLOAD_SHARE = 1448 / 1514;
/**
 * Loaded RTT vs the idle RTT + the tbf queue's delay (as a kernel-timed ICMP echo reads it): it
 * must rise with the queue, within 0.5–1.5× of it. The issue's ±20 % is bench/accuracy's target; at
 * 10 Mbit/s BBR's queue swings, and runs here against the backlog model gave 0.73–1.08× per run, so
 * a tighter bound would fail on a busy machine.
 */
const RTT_BOUNDS = [0.5, 1.5] as const;
const QUEUE_MS = 25;
const NP_PORT = 7443;
const HTTPS_PORT = 8443;
const IPERF_PORT = 5201;

/** An HTTPS file server that shares no code with netprobe (argv: address port cert key file). */
const HTTPS_SERVER = `
const [host, port, cert, key, file] = process.argv.slice(1);
const fs = require('node:fs');
const data = fs.readFileSync(file);
require('node:https').createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  res.writeHead(200, { 'content-length': data.length, 'content-type': 'application/octet-stream' });
  res.end(data);
}).listen(Number(port), host, () => console.log('listening'));
`;

function waitForLine(child: ChildProcess, match: (line: string) => boolean): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 20 s: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (match(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const show = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

async function missing(cmd: string): Promise<string | undefined> {
  try {
    await execFileAsync(cmd, ['--version']);
    return undefined;
  } catch {
    return `needs ${cmd} (apt-get install ${cmd})`;
  }
}

const unavailable = await netnsUnavailable();
const noIperf = unavailable ?? (await missing('iperf3'));

/** Skips (or under CI=true fails) a case that cannot run here; true when it may run. */
function mayRun(t: { skip(message: string): void; diagnostic(message: string): void }, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (process.env.CI === 'true') assert.fail(`CI=true and the accuracy test cannot run: ${reason}`);
  t.diagnostic(`skipped: ${reason}`);
  process.stdout.write(`# netns accuracy test skipped: ${reason}\n`);
  t.skip(reason);
  return false;
}

let dir = '';
let ns: Netns | undefined;
let base: Pick<ProbeConfig, 'endpoint' | 'tls' | 'clientName'>;
let caFile = '';

before(async () => {
  if (unavailable !== undefined) return;
  dir = await mkdtemp(join(tmpdir(), 'netprobe-netns-'));
  ns = await createNetns('tst');
  const ca = await createCa();
  const server = await issueCert(ca, { commonName: 'netns', usage: 'server', ipAddresses: [ns.nsAddr] });
  const client = await issueCert(ca, { commonName: 'alice', usage: 'client' });
  const files = join(dir, 'files');
  await mkdir(files);
  const file = join(files, 'link.bin');
  await writeFile(file, randomBytes((RATE_MBPS * 1e6 * SECONDS) / 8));
  // Each of the STREAMS streams downloads this one: together as many bytes as link.bin.
  await writeFile(join(files, `link-s${STREAMS}.bin`), randomBytes((RATE_MBPS * 1e6 * SECONDS) / 8 / STREAMS));
  await writeFile(join(files, 'low.bin'), randomBytes((LOW_RATE_MBPS * 1e6 * SECONDS) / 8));
  await writeFile(join(files, `low-s${STREAMS}.bin`), randomBytes((LOW_RATE_MBPS * 1e6 * LOW_STREAMS_SECONDS) / 8 / STREAMS));
  caFile = join(dir, 'ca.crt');
  for (const [name, pem] of [
    ['ca.crt', ca.certPem],
    ['server.crt', server.certPem],
    ['server.key', server.keyPem],
    ['alice.crt', client.certPem],
    ['alice.key', client.keyPem],
  ] as const)
    await writeFile(join(dir, name), pem, { mode: 0o600 });

  const np = ns.spawn(process.execPath, [
    CLI,
    'server',
    '--workers',
    '1',
    '--host',
    ns.nsAddr,
    '--port',
    String(NP_PORT),
    '--ca',
    caFile,
    '--cert',
    join(dir, 'server.crt'),
    '--key',
    join(dir, 'server.key'),
    '--files',
    files,
    '--builtin-files',
    '',
    '--store',
    join(dir, 'server.db'),
    '--stats-interval',
    '0',
  ]);
  const https = ns.spawn(process.execPath, [
    '-e',
    HTTPS_SERVER,
    ns.nsAddr,
    String(HTTPS_PORT),
    join(dir, 'server.crt'),
    join(dir, 'server.key'),
    file,
  ]);
  if (noIperf === undefined) ns.spawn('iperf3', ['-s', '-B', ns.nsAddr, '-p', String(IPERF_PORT)]);
  await Promise.all([waitForLine(np, (l) => l.includes('"listening"')), waitForLine(https, (l) => l === 'listening')]);
  base = {
    endpoint: { host: ns.nsAddr, port: NP_PORT },
    tls: { ca: Buffer.from(ca.certPem), cert: Buffer.from(client.certPem), key: Buffer.from(client.keyPem) },
    clientName: 'alice',
  };
});

after(async () => {
  const name = ns?.name;
  await ns?.cleanup();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
  if (name === undefined) return;
  const { stdout } = await execFileAsync('ip', ['netns', 'list']);
  assert.ok(!stdout.includes(name), `namespace ${name} removed`);
});

async function measure(config: Partial<ProbeConfig> & Pick<ProbeConfig, 'file'>): Promise<Result> {
  const { result } = await probe({ ...base, ...config });
  assert.equal(result.error, null, JSON.stringify(result.error));
  return result;
}

/** iperf3 from the host to the namespace's server: -R for the download direction; -n bytes in all streams. */
async function iperf3Mbps(bytes: number, options: { reverse: boolean; streams?: number }): Promise<number> {
  const args = [
    '-c',
    ns!.nsAddr,
    '-p',
    String(IPERF_PORT),
    '-n',
    String(bytes),
    '-P',
    String(options.streams ?? 1),
    '-J',
    ...(options.reverse ? ['-R'] : []),
  ];
  for (let attempt = 1; ; attempt++) {
    try {
      const { stdout } = await execFileAsync('iperf3', args);
      return (JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e6;
    } catch (err) {
      // The server takes one test at a time and may still be closing the last one.
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const FILE_BYTES = (RATE_MBPS * 1e6 * SECONDS) / 8;

/** RPM is reported with the probes it rests on: a finite figure and at least one foreign probe. */
function assertRpm(r: Result): void {
  assert.ok(r.rpmProbes !== undefined && r.rpmProbes > 0, `RPM rests on foreign probes: ${r.rpmProbes}`);
  assert.ok(typeof r.rpm === 'number' && Number.isFinite(r.rpm) && r.rpm > 0, `RPM is a finite figure: ${r.rpm}`);
}

test(
  `netprobe's throughput over a ${RATE_MBPS} Mbit/s tbf link is within ±${TOLERANCE * 100} % of curl's`,
  { timeout: 120_000 },
  async (t) => {
    if (!mayRun(t, unavailable)) return;
    await ns!.shape({ rateMbps: RATE_MBPS, queueMs: QUEUE_MS });
    const netprobeMbps: number[] = [];
    const curlMbps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const result = await measure({ file: 'link.bin' });
      assert.equal(result.sha256Ok, true);
      netprobeMbps.push(result.throughputMbps!);
      const { stdout } = await execFileAsync('curl', [
        '-s',
        '-o',
        '/dev/null',
        '--cacert',
        caFile,
        '-w',
        '%{size_download} %{time_starttransfer} %{time_total}',
        `https://${ns!.nsAddr}:${HTTPS_PORT}/`,
      ]);
      const [bytes, start, total] = stdout.trim().split(' ').map(Number) as [number, number, number];
      // First to last byte of the body, as netprobe defines throughput.
      curlMbps.push((bytes * 8) / (total - start) / 1e6);
    }
    const ratio = median(netprobeMbps) / median(curlMbps);
    t.diagnostic(`netprobe ${show(netprobeMbps)} Mbit/s; curl ${show(curlMbps)} Mbit/s; ratio ${ratio.toFixed(3)}`);
    assert.ok(Math.abs(ratio - 1) <= TOLERANCE, `netprobe ÷ curl = ${ratio.toFixed(3)}, outside ±${TOLERANCE * 100} %`);
    // Both near the shaped rate less the headers (1448 payload bytes per 1514-byte frame).
    const expected = (RATE_MBPS * 1448) / 1514;
    assert.ok(
      Math.abs(median(netprobeMbps) / expected - 1) <= 0.08,
      `netprobe ${median(netprobeMbps)} Mbit/s vs ≈ ${expected.toFixed(1)} expected on the link`,
    );
  },
);

test(
  `--streams ${STREAMS} over a ${RATE_MBPS} Mbit/s tbf link is within ±${IPERF_TOLERANCE * 100} % of iperf3 -P ${STREAMS}`,
  { timeout: 120_000 },
  async (t) => {
    if (!mayRun(t, noIperf)) return;
    await ns!.shape({ rateMbps: RATE_MBPS, queueMs: QUEUE_MS });
    const netprobeMbps: number[] = [];
    const iperfMbps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const result = await measure({ file: `link-s${STREAMS}.bin`, streams: STREAMS });
      assert.equal(result.streams, STREAMS);
      assert.equal(result.streamsMbps?.length, STREAMS);
      netprobeMbps.push(result.throughputMbps!);
      iperfMbps.push(await iperf3Mbps(FILE_BYTES, { reverse: true, streams: STREAMS }));
    }
    const ratio = median(netprobeMbps) / median(iperfMbps);
    t.diagnostic(
      `netprobe --streams ${STREAMS} ${show(netprobeMbps)} Mbit/s; iperf3 -R -P ${STREAMS} ${show(iperfMbps)} Mbit/s; ratio ${ratio.toFixed(3)}`,
    );
    assert.ok(Math.abs(ratio - 1) <= IPERF_TOLERANCE, `netprobe ÷ iperf3 = ${ratio.toFixed(3)}, outside ±${IPERF_TOLERANCE * 100} %`);
  },
);

test(
  `an upload over a ${RATE_MBPS} Mbit/s tbf link is within ±${IPERF_TOLERANCE * 100} % of iperf3 client → server`,
  { timeout: 120_000 },
  async (t) => {
    if (!mayRun(t, noIperf)) return;
    await ns!.unshape('ns');
    await ns!.shape({ rateMbps: RATE_MBPS, queueMs: QUEUE_MS }, 'host');
    try {
      const netprobeMbps: number[] = [];
      const iperfMbps: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const result = await measure({ file: 'link.bin', direction: 'upload' });
        assert.equal(result.direction, 'upload');
        assert.equal(result.bytes, FILE_BYTES);
        assertRpm(result);
        assert.ok((result.rpmSelfProbes ?? 0) > 0, `an upload carries self probes between its DATA frames: ${result.rpmSelfProbes}`);
        netprobeMbps.push(result.throughputMbps!);
        iperfMbps.push(await iperf3Mbps(FILE_BYTES, { reverse: false }));
      }
      const ratio = median(netprobeMbps) / median(iperfMbps);
      t.diagnostic(`netprobe upload ${show(netprobeMbps)} Mbit/s; iperf3 ${show(iperfMbps)} Mbit/s; ratio ${ratio.toFixed(3)}`);
      assert.ok(Math.abs(ratio - 1) <= IPERF_TOLERANCE, `netprobe ÷ iperf3 = ${ratio.toFixed(3)}, outside ±${IPERF_TOLERANCE * 100} %`);
    } finally {
      await ns!.unshape('host');
    }
  },
);

test(
  `--streams ${STREAMS} at ${LOW_RATE_MBPS} Mbit/s, download and upload, reads the link's payload rate within ±2 % in every run`,
  { timeout: 180_000 },
  async (t) => {
    if (!mayRun(t, unavailable)) return;
    const payloadMbps = LOW_RATE_MBPS * PAYLOAD_SHARE;
    const figures: Record<'download' | 'upload', number[]> = { download: [], upload: [] };
    for (const direction of ['download', 'upload'] as const) {
      // The sending end's egress is the shaped link.
      const [shaped, other] = direction === 'download' ? (['ns', 'host'] as const) : (['host', 'ns'] as const);
      await ns!.unshape(other);
      await ns!.shape({ rateMbps: LOW_RATE_MBPS, queueMs: 50 }, shaped);
      try {
        for (let i = 0; i < RUNS; i++) {
          const result = await measure({ file: `low-s${STREAMS}.bin`, direction, streams: STREAMS });
          assert.equal(result.streams, STREAMS);
          figures[direction].push(result.throughputMbps!);
        }
      } finally {
        await ns!.unshape(shaped);
      }
      t.diagnostic(
        `${direction} --streams ${STREAMS}: ${show(figures[direction])} Mbit/s; the link's payload rate ${payloadMbps.toFixed(2)}`,
      );
    }
    for (const [direction, values] of Object.entries(figures))
      for (const mbps of values)
        assert.ok(
          Math.abs(mbps / payloadMbps - 1) <= 0.02,
          `${direction}: ${mbps} Mbit/s is ${(mbps / payloadMbps).toFixed(3)}× the link's payload rate`,
        );
  },
);

test(
  `loaded RTT at ${LOW_RATE_MBPS} Mbit/s is ${RTT_BOUNDS.join('–')}× the idle RTT + the tbf queue's delay a kernel-timed ICMP echo reads`,
  { timeout: 120_000 },
  async (t) => {
    if (!mayRun(t, unavailable)) return;
    await ns!.shape({ rateMbps: LOW_RATE_MBPS, queueMs: 50 });
    const bytesPerMs = (LOW_RATE_MBPS * 1e6) / 8 / 1000;
    const loaded: number[] = [];
    const reference: number[] = [];
    const model: number[] = [];
    // As bench/accuracy.ts: the queue's delay is what it adds to an ICMP echo through it (timed by the
    // kernel); the backlog model (tc samples) is bimodal at this rate and only shown. Without ping,
    // the model is the reference.
    const idleIcmpMs = await icmpIdleMs(ns!.nsAddr);
    for (let i = 0; i < RUNS; i++) {
      const icmp = Number.isFinite(idleIcmpMs) ? await icmpProber(ns!.nsAddr) : undefined;
      // The probe in a process of its own, as the client runs: the tc sampler's children then do not
      // stall the event loop that times the PINGs. Default PING interval (--loaded-ping-interval).
      const measured = withBacklog(ns!, () =>
        execFileAsync(process.execPath, [
          CLI,
          'client',
          '--once',
          '--json',
          '--server',
          `${ns!.nsAddr}:${NP_PORT}`,
          '--ca',
          caFile,
          '--cert',
          join(dir, 'alice.crt'),
          '--key',
          join(dir, 'alice.key'),
          '--file',
          'low.bin',
          '--outbox',
          join(dir, 'outbox.db'),
          '--log-level',
          'warn',
        ]),
      );
      // ping stops whatever the measurement did (it would otherwise run for its -w).
      const outcome = await measured.catch(async (err: unknown) => {
        await icmp?.stop();
        throw err;
      });
      const { value, waitBytes, window } = outcome;
      const icmpMs = icmp === undefined ? null : probesDuring(await icmp.stop(), window);
      const r = JSON.parse(value.stdout.trim().split('\n')[0]!) as Result;
      assert.equal(r.error, null, JSON.stringify(r.error));
      assertRpm(r);
      loaded.push(r.loadedRttMs!);
      model.push(r.idleRttMs! + waitBytes / bytesPerMs);
      reference.push(r.idleRttMs! + (icmpMs === null ? waitBytes / bytesPerMs : icmpMs - idleIcmpMs));
    }
    const ratios = loaded.map((ms, i) => ms / reference[i]!);
    const ratio = median(ratios);
    t.diagnostic(
      `loaded RTT ${show(loaded)} ms; idle RTT + the queue's delay ${show(reference)} ms (the backlog model ${show(model)}); ratios ${show(ratios)}`,
    );
    assert.ok(
      ratio >= RTT_BOUNDS[0] && ratio <= RTT_BOUNDS[1],
      `loaded RTT ÷ (idle RTT + the tbf queue's delay) = ${ratio.toFixed(3)}, outside ${RTT_BOUNDS.join('–')}×`,
    );
  },
);
