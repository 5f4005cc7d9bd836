/**
 * Accuracy over a shaped link: a network namespace joined by a veth pair, the namespace's egress
 * (the direction files flow) shaped by `tbf` at 10, 100 and 1000 Mbit/s (100 with --quick). Inside
 * the namespace: the netprobe server, nginx (HTTPS, same certificate, same files) and an iperf3
 * server. From the host, in turns: `netprobe client --once`, curl, `iperf3 -R`; medians of RUNS.
 *
 * Rows: netprobe's throughput ÷ curl's and ÷ iperf3's (target within ±3 %), ÷ the configured rate
 * (TCP/IP/Ethernet and TLS headers leave ≈ 95.5 % of it for payload: 1448 of every 1514 bytes);
 * `--streams 4` (the aggregate over the common interval) vs `iperf3 -R -P 4` with as many bytes
 * (-n), read by the same rule (./iperf.ts), and its run farthest from the link's payload rate; at the lowest rate only, duration mode vs iperf3, and
 * duration mode with `--streams 4` vs `iperf3 -R -P 4 -t` (as long, time-based) read by the same
 * rule; loaded RTT vs idle RTT + the delay the tbf queue adds to a packet joining it, as an ICMP
 * echo through it timed by the kernel reads it (`icmpProber`, iputils ping: loaded − idle ICMP RTT;
 * `queueRows` says why), and the result's RPM and foreign RPM (with their probe counts) vs 60,000 ÷
 * that delay in ms, both directions; the same loaded RTT, and the ICMP echo, against the backlog
 * model (idle RTT + what a packet joining the queue waits for ÷ rate, sampled from one `tc -s` batch
 * process during the transfer: netns.ts `withBacklog`, `joiningWaitBytes`); beside each loaded RTT a
 * prober's that is not netprobe (a TCP connect to a closed port in the namespace, SYN → RST through
 * the same queue, timed in this process: `refusedConnectProber`) vs the same reference; idle RTT vs a
 * TCP connect round trip; upload (tbf on the host's egress) vs iperf3 client → server, and upload `--streams 4`
 * vs `iperf3 -P 4` client → server, moving three times the bytes, read over the receiver's common
 * interval (`iperfUpload` says why; and netprobe's farthest run
 * from the link's payload rate). Needs root and
 * iproute2; otherwise writes a skipped result and exits 0.
 *
 *   node --import tsx bench/accuracy.ts [--quick]
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type IperfReport, iperfCommonIntervalMbps } from './iperf.js';
import { type BenchRow, QUICK, execFileAsync, median, printTable, writeNginxConfig, writeRandomFile, writeResult } from './lib.js';
import { type Netns, createNetns, icmpIdleMs, icmpProber, netnsUnavailable, probesDuring, withBacklog } from './netns.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const RATES_MBPS = QUICK ? [100] : [10, 100, 1000];
const RUNS = QUICK ? 1 : 3;
/** Each download lasts about this long at the shaped rate. */
const SECONDS = QUICK ? 2 : 4;
/**
 * tbf queue: at most this much delay (its `limit` is rate × QUEUE_MS), as a modem's buffer would
 * hold. With 25 ms (31 KB at 10 Mbit/s) drops were frequent enough that iperf3's BBR sender lost up
 * to 10 % of its rate on a loaded machine; netprobe and curl did not.
 */
const QUEUE_MS = 50;
/** Share of the link rate left for TCP payload: 1448 payload bytes per 1514-byte frame (TCP timestamps on). */
const PAYLOAD_SHARE = 1448 / 1514;
/** Parallel streams of the --streams row (against iperf3 -P with as many). */
const STREAMS = 4;
const NP_PORT = 7443;
const NGINX_PORT = 8443;
const IPERF_PORT = 5201;
/** A second iperf3 server for the upload --streams row: JSON with 100 ms intervals, which a client gets with --get-server-output. */
const IPERF_JSON_PORT = 5202;
/** How many times the file's bytes the iperf3 -P upload reference moves (see iperfUpload). */
const UPLOAD_STREAMS_REFERENCE_SCALE = 3;

interface Sample {
  tool:
    | 'netprobe'
    | 'curl'
    | 'iperf3'
    | 'netprobe-duration'
    | 'netprobe-upload'
    | 'iperf3-upload'
    | 'netprobe-streams'
    | 'iperf3-streams'
    | 'netprobe-duration-streams'
    | 'iperf3-duration-streams'
    | 'netprobe-upload-streams'
    | 'iperf3-upload-streams';
  mbps: number;
  idleRttMs?: number | null;
  loadedRttMs?: number | null;
  /** The result's RPM and what it rests on (src/analysis/responsiveness.ts computed them in the client). */
  rpm?: number | null;
  rpmForeign?: number | null;
  rpmProbes?: number;
  rpmSelfProbes?: number;
  /** iperf3 -P: all bytes over the whole test (its sum_received), beside `mbps` over the common interval. */
  wholeMbps?: number;
  /** Median tbf backlog while it ran, bytes. */
  backlogBytes?: number;
  /** The same over the bytes a packet joining the queue waits for (netns.ts `joiningWaitBytes`): the reference's. */
  waitBytes?: number;
  /** Median round trip of the neutral prober (`refusedConnectProber`) during the transfer, ms. */
  neutralRttMs?: number | null;
  /** Median round trip of `icmpProber` (kernel receive timestamps) during the transfer, ms; undefined without ping. */
  icmpRttMs?: number | null;
  /** The result's tcpRttMs: the sending TCP's smoothed RTT from its kernel (src/tcp-info.ts), ms. */
  tcpRttMs?: number | null;
}

/** Resolves with the first stdout line `match` accepts; rejects when the process exits first. */
function waitForLine(child: ChildProcess, match: (line: string) => boolean, timeoutMs = 30_000): Promise<string> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!match(line)) return;
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

async function retry<T>(what: string, fn: () => Promise<T>, attempts = 50): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts) throw new Error(`${what}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Median TCP connect time to host:port, ms (one SYN/SYN-ACK round trip: the idle RTT reference). */
async function connectRttMs(host: string, port: number, count = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host, port }, () => {
        times.push(performance.now() - t0);
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
  }
  return median(times);
}

/** A port nothing listens on in the namespace: a SYN to it is answered by the kernel's RST. */
const CLOSED_PORT = 9;
/** The neutral prober gives up on one probe after this long (the tbf queue holds at most 50 ms). */
const PROBE_TIMEOUT_MS = 2_000;

/**
 * A prober that is not netprobe: every `intervalMs` a TCP connect to a closed port, timed until
 * ECONNREFUSED. The SYN and the kernel's RST are one round trip through the same tbf queue as
 * netprobe's PING/PONG (the RST joins the namespace's egress queue on a download, the SYN the host's
 * on an upload), with no TLS and no netprobe code at either end, but timed in user space (this
 * process), so it carries the host's scheduling delay as netprobe does. At 100 Mbit/s (2026-12-06,
 * 04:00-04:13 UTC, load 2.3-6) an ICMP echo with kernel receive timestamps saw 0.89-1.06x the tbf
 * reference while netprobe's loaded RTT was 1.05-1.45x it: the queue model holds, and what netprobe
 * adds is time in user space on a busy 2-core host, which this prober shows too.
 */
function refusedConnectProber(host: string, intervalMs = 50): { stop(): Promise<{ sentAtMs: number; rttMs: number }[]> } {
  const probes: { sentAtMs: number; rttMs: number }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sentAtMs = performance.now();
      const rttMs = await new Promise<number | null>((resolve) => {
        const socket = connect({ host, port: CLOSED_PORT });
        // A SYN or RST dropped by the full queue: no probe (TCP would retry it for minutes).
        socket.setTimeout(PROBE_TIMEOUT_MS, () => {
          socket.destroy();
          resolve(null);
        });
        socket.once('connect', () => {
          socket.destroy();
          resolve(null);
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? performance.now() - sentAtMs : null));
      });
      if (rttMs !== null) probes.push({ sentAtMs, rttMs });
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return probes;
    },
  };
}

export async function benchAccuracy(): Promise<BenchRow[]> {
  const unavailable = await netnsUnavailable();
  if (unavailable !== undefined) {
    process.stdout.write(`accuracy: skipped: ${unavailable}\n`);
    await writeResult('accuracy', [], { skipped: unavailable });
    return [];
  }
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-bench-acc-'));
  let ns: Netns | undefined;
  const samples = new Map<number, Sample[]>();
  const shapes = new Map<number, { limitBytes: number; burstBytes: number }>();
  let idleReferenceMs = NaN;
  let idleIcmpMs = NaN;
  try {
    ns = await createNetns('acc');
    const files = join(dir, 'files');
    const certs = join(dir, 'certs');
    await mkdir(files);
    for (const rate of RATES_MBPS) {
      await writeRandomFile(join(files, `r${rate}.bin`), Math.round((rate * 1e6 * SECONDS) / 8));
      // Each of the --streams row's streams downloads this one: together as many bytes as r<rate>.bin.
      await writeRandomFile(join(files, `r${rate}-s${STREAMS}.bin`), Math.round((rate * 1e6 * SECONDS) / 8 / STREAMS));
    }
    await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', certs, '--host', ns.nsAddr]);
    await execFileAsync(process.execPath, [CLI, 'certs', 'client', 'bench', '--dir', certs]);

    const server = ns.spawn(process.execPath, [
      CLI,
      'server',
      '--workers',
      '1',
      '--host',
      ns.nsAddr,
      '--port',
      String(NP_PORT),
      '--ca',
      join(certs, 'ca.crt'),
      '--cert',
      join(certs, 'server.crt'),
      '--key',
      join(certs, 'server.key'),
      '--files',
      files,
      '--builtin-files',
      '',
      '--store',
      join(dir, 'server.db'),
      '--stats-interval',
      '0',
    ]);
    await waitForLine(server, (l) => l.includes('"listening"'));
    const nginxArgs = await writeNginxConfig({
      prefix: join(dir, 'nginx'),
      listen: `${ns.nsAddr}:${NGINX_PORT}`,
      cert: join(certs, 'server.crt'),
      key: join(certs, 'server.key'),
      root: files,
      workers: 1,
      connections: 64,
    });
    ns.spawn('nginx', nginxArgs);
    ns.spawn('iperf3', ['-s', '-B', ns.nsAddr, '-p', String(IPERF_PORT)]);
    // Its own output goes to a file (a pipe nobody reads would fill and stall it); the client gets it.
    ns.spawn('iperf3', [
      '-s',
      '-B',
      ns.nsAddr,
      '-p',
      String(IPERF_JSON_PORT),
      '-J',
      '-i',
      '0.1',
      '--logfile',
      join(dir, 'iperf3-json-server.log'),
    ]);
    const curlBase = ['-s', '-o', '/dev/null', '--cacert', join(certs, 'ca.crt'), '--tlsv1.3'];
    await retry('nginx', () =>
      execFileAsync('curl', [...curlBase, `https://${ns!.nsAddr}:${NGINX_PORT}/`]).catch((err: { code?: number }) => {
        if (err.code !== 22) throw err;
      }),
    );
    idleReferenceMs = await connectRttMs(ns.nsAddr, NGINX_PORT);
    idleIcmpMs = await icmpIdleMs(ns.nsAddr);

    const netprobe = async (
      rate: number,
      durationMs?: number,
      direction: 'download' | 'upload' = 'download',
      streams = 1,
    ): Promise<Sample> => {
      const prober = refusedConnectProber(ns!.nsAddr);
      const icmp = await icmpProber(ns!.nsAddr);
      const measured = withBacklog(
        ns!,
        () =>
          execFileAsync(process.execPath, [
            CLI,
            'client',
            '--once',
            '--json',
            '--direction',
            direction,
            '--streams',
            String(streams),
            '--server',
            `${ns!.nsAddr}:${NP_PORT}`,
            '--ca',
            join(certs, 'ca.crt'),
            '--cert',
            join(certs, 'clients', 'bench.crt'),
            '--key',
            join(certs, 'clients', 'bench.key'),
            '--file',
            streams > 1 ? `r${rate}-s${streams}.bin` : `r${rate}.bin`,
            '--outbox',
            join(dir, 'outbox.db'),
            '--log-level',
            'warn',
            ...(durationMs === undefined ? [] : ['--duration', `${durationMs}ms`]),
          ]),
        direction === 'upload' ? 'host' : 'ns',
      );
      // The probers stop whatever the measurement did (ping would otherwise run for its -w).
      const stopProbers = () => Promise.all([prober.stop(), icmp?.stop()]);
      const outcome = await measured.catch(async (err: unknown) => {
        await stopProbers();
        throw err;
      });
      const [neutralProbes, icmpProbes] = await stopProbers();
      const { value, backlogBytes, waitBytes, window } = outcome;
      const neutralRttMs = probesDuring(neutralProbes, window);
      const icmpRttMs = icmpProbes === undefined ? undefined : probesDuring(icmpProbes, window);
      const r = JSON.parse(value.stdout.trim().split('\n')[0]!) as {
        throughputMbps: number;
        idleRttMs: number | null;
        loadedRttMs: number | null;
        rpm?: number | null;
        rpmForeign?: number | null;
        rpmProbes?: number;
        rpmSelfProbes?: number;
        tcpRttMs?: number | null;
        error: unknown;
      };
      if (r.error) throw new Error(`netprobe at ${rate} Mbit/s failed: ${JSON.stringify(r.error)}`);
      const tool =
        direction === 'upload'
          ? streams > 1
            ? 'netprobe-upload-streams'
            : 'netprobe-upload'
          : streams > 1
            ? durationMs === undefined
              ? 'netprobe-streams'
              : 'netprobe-duration-streams'
            : durationMs === undefined
              ? 'netprobe'
              : 'netprobe-duration';
      return {
        tool,
        mbps: r.throughputMbps,
        idleRttMs: r.idleRttMs,
        loadedRttMs: r.loadedRttMs,
        rpm: r.rpm ?? null,
        rpmForeign: r.rpmForeign ?? null,
        rpmProbes: r.rpmProbes ?? 0,
        rpmSelfProbes: r.rpmSelfProbes ?? 0,
        backlogBytes,
        waitBytes,
        neutralRttMs,
        icmpRttMs,
        tcpRttMs: r.tcpRttMs ?? null,
      };
    };
    const curl = async (rate: number): Promise<Sample> => {
      const { stdout } = await execFileAsync('curl', [
        ...curlBase,
        '-w',
        '%{size_download} %{time_starttransfer} %{time_total}',
        `https://${ns!.nsAddr}:${NGINX_PORT}/r${rate}.bin`,
      ]);
      const [bytes, start, total] = stdout.trim().split(' ').map(Number) as [number, number, number];
      // First to last byte of the body, as netprobe defines throughput.
      return { tool: 'curl', mbps: (bytes * 8) / (total - start) / 1e6 };
    };
    /**
     * Client → server (no -R): the receiver in the namespace reports what it got, as netprobe's server
     * does for an upload. With -P, the receiver's own 100 ms intervals (--get-server-output) read
     * over the streams' common interval (./iperf.ts), as netprobe's upload streams are. With -P it
     * moves UPLOAD_STREAMS_REFERENCE_SCALE times the file's bytes: iperf3's server books its reads
     * into its 100 ms intervals in bursts (2–25 Mbit/s intervals on a 10 Mbit/s link), and over the
     * ~2.5 s common interval of the file's bytes the boundary intervals swung it 9.31–10.17 Mbit/s
     * in eight runs on a 9.56 Mbit/s link (the bench of 2026-12-07 17:35 UTC read 9.07 at the median);
     * over three times as long, 9.50–9.55. iperf3 -R -P (the client reads) held 9.57–9.63 unscaled.
     */
    const iperfUpload = async (rate: number, streams = 1): Promise<Sample> => {
      const bytes = Math.round((rate * 1e6 * SECONDS * (streams > 1 ? UPLOAD_STREAMS_REFERENCE_SCALE : 1)) / 8);
      const parallel = streams > 1 ? ['-P', String(streams), '-i', '0.1', '--get-server-output'] : [];
      const port = streams > 1 ? IPERF_JSON_PORT : IPERF_PORT;
      const { stdout } = await retry(
        'iperf3',
        () => execFileAsync('iperf3', ['-c', ns!.nsAddr, '-p', String(port), '-n', String(bytes), ...parallel, '-J']),
        10,
      );
      const report = JSON.parse(stdout) as { end: { sum_received: { bits_per_second: number } }; server_output_json?: IperfReport };
      const wholeMbps = report.end.sum_received.bits_per_second / 1e6;
      if (streams === 1) return { tool: 'iperf3-upload', mbps: wholeMbps };
      const received = report.server_output_json;
      const common = received === undefined ? undefined : iperfCommonIntervalMbps(received);
      if (common === undefined)
        throw new Error(`iperf3 -P ${streams} upload at ${rate} Mbit/s: no receiver interval in which every stream ran`);
      return { tool: 'iperf3-upload-streams', mbps: common, wholeMbps };
    };
    const iperf = async (rate: number, streams = 1, durationSeconds?: number): Promise<Sample> => {
      // The same byte count as the file (-n): the receiver's rate is then bytes over first to last
      // byte, as for the others (with -t the bytes still queued when the sender stops are lost to it).
      // With -P, -n counts all streams' bytes together (as netprobe's streams move in all), and the
      // figure is read over the streams' common interval, as netprobe's (./iperf.ts; 100 ms
      // intervals); sum_received (the whole test, start-up stalls included) is kept beside it.
      // durationSeconds (with -P only): -t instead of -n, as long as netprobe's duration mode; the
      // common interval ends before the first stream's last interval, so the bytes still queued when
      // the sender stops are not in it.
      if (durationSeconds !== undefined && streams === 1) throw new Error('iperf3 -t: only with -P (read over the common interval)');
      const amount =
        durationSeconds === undefined ? ['-n', String(Math.round((rate * 1e6 * SECONDS) / 8))] : ['-t', String(durationSeconds)];
      const interval = streams > 1 ? ['-i', '0.1'] : [];
      const { stdout } = await retry(
        'iperf3',
        () =>
          execFileAsync('iperf3', ['-c', ns!.nsAddr, '-p', String(IPERF_PORT), '-R', ...amount, '-P', String(streams), ...interval, '-J']),
        10,
      );
      const report = JSON.parse(stdout) as IperfReport;
      const wholeMbps = report.end.sum_received.bits_per_second / 1e6;
      if (streams === 1) return { tool: 'iperf3', mbps: wholeMbps };
      const common = iperfCommonIntervalMbps(report);
      if (common === undefined) throw new Error(`iperf3 -P ${streams} at ${rate} Mbit/s: no interval in which every stream ran`);
      return { tool: durationSeconds === undefined ? 'iperf3-streams' : 'iperf3-duration-streams', mbps: common, wholeMbps };
    };

    for (const rate of RATES_MBPS) {
      shapes.set(rate, await ns.shape({ rateMbps: rate, queueMs: QUEUE_MS }));
      const list: Sample[] = [];
      samples.set(rate, list);
      process.stderr.write(`accuracy: ${rate} Mbit/s …\n`);
      for (let i = 0; i < RUNS; i++) {
        list.push(await netprobe(rate));
        list.push(await curl(rate));
        list.push(await iperf(rate));
      }
      if (rate === RATES_MBPS[0]) for (let i = 0; i < RUNS; i++) list.push(await netprobe(rate, SECONDS * 1000));
      for (let i = 0; i < RUNS; i++) {
        list.push(await netprobe(rate, undefined, 'download', STREAMS));
        list.push(await iperf(rate, STREAMS));
      }
      if (rate === RATES_MBPS[0]) {
        for (let i = 0; i < RUNS; i++) {
          list.push(await netprobe(rate, SECONDS * 1000, 'download', STREAMS));
          list.push(await iperf(rate, STREAMS, SECONDS));
        }
      }
      // Upload: the same rate and queue on the host's egress.
      shapes.set(-rate, await ns.shape({ rateMbps: rate, queueMs: QUEUE_MS }, 'host'));
      for (let i = 0; i < RUNS; i++) {
        list.push(await netprobe(rate, undefined, 'upload'));
        list.push(await iperfUpload(rate));
      }
      for (let i = 0; i < RUNS; i++) {
        list.push(await netprobe(rate, undefined, 'upload', STREAMS));
        list.push(await iperfUpload(rate, STREAMS));
      }
      await ns.unshape('host');
    }
  } finally {
    await ns?.cleanup();
    await rm(dir, { recursive: true, force: true });
  }

  const rows: BenchRow[] = [];
  const med = (list: Sample[], tool: Sample['tool'], key: Exclude<keyof Sample, 'tool'>) =>
    median(list.filter((s) => s.tool === tool && typeof s[key] === 'number').map((s) => s[key] as number));
  /** netprobe's median throughput as `tool` ÷ the reference tool's (target within ±3 %); none when `tool` did not run at this rate. */
  const throughputRows = (
    list: Sample[],
    tool: Sample['tool'],
    referenceTool: Sample['tool'],
    metric: string,
    referenceName: string,
  ): BenchRow[] => {
    if (!list.some((s) => s.tool === tool)) return [];
    const np = med(list, tool, 'mbps');
    const reference = med(list, referenceTool, 'mbps');
    return [
      { bench: 'accuracy', metric, netprobe: np, reference, referenceName, ratio: np / reference, unit: 'Mbit/s', target: '0.97–1.03×' },
    ];
  };
  /**
   * The run of `tool` farthest from the link's payload rate (the tbf rate × PAYLOAD_SHARE), as a
   * ratio to it: the medians above hide one run's error, which a user who runs it once gets.
   */
  const everyRunRows = (list: Sample[], tool: Sample['tool'], rate: number, metric: string): BenchRow[] => {
    const runs = list.filter((s) => s.tool === tool && typeof s.mbps === 'number').map((s) => s.mbps);
    if (runs.length === 0) return [];
    const payloadMbps = rate * PAYLOAD_SHARE;
    const worst = runs.reduce((a, b) => (Math.abs(b / payloadMbps - 1) > Math.abs(a / payloadMbps - 1) ? b : a));
    return [
      {
        bench: 'accuracy',
        metric,
        netprobe: worst,
        reference: payloadMbps,
        referenceName: `link payload rate (tbf × 1448/1514), farthest of ${runs.length} runs`,
        ratio: worst / payloadMbps,
        unit: 'Mbit/s',
        target: '0.97–1.03× (every run)',
      },
    ];
  };
  /**
   * Loaded RTT and RPM of one direction against the delay the tbf queue adds to a packet that joins
   * it, as the kernel times it: an ICMP echo through the same queue, timestamped on receipt by the
   * kernel (`icmpProber`), its loaded RTT less its idle one (the median over the runs), added to
   * netprobe's idle RTT; the RPMs against 60,000 ÷ that delay in ms. The same rows against the
   * backlog model follow (idle RTT + the bytes a joining packet waits for ÷ rate, sampled by a `tc`
   * process: netns.ts `withBacklog`). Both agree at 100 and 1000 Mbit/s (ICMP 0.97–1.05× the model
   * in the 2026-12-07 runs), but at 10 Mbit/s a packet on the veth is a GSO burst of up to 16 KiB, 6–13
   * ms long, the sampled backlog is bimodal (joining waits near 5–9 ms and 16–20 ms, in every
   * transfer) and its median jumps between the two (9.2 and 16.4 ms in consecutive runs) while the
   * ICMP echo read 10.4–12.5 ms; the mean is no cure (13–17 ms: a sampler in user space on a busy
   * host reads more often when the queue is long). So the model is shown, the measured queue is the
   * reference. The RPMs are the results' own (src/analysis/responsiveness.ts in the client); each row
   * names the probes a run (medians) it rests on. The foreign RPM (PINGs on the separate connection)
   * sees the network's queue only; the result's RPM averages it with the self RPM (PINGs on the loaded
   * connection), whose probes also wait behind the sender's own socket buffer, which no queue
   * reference shows. Without ping, the model is the reference.
   */
  const queueRows = (
    list: Sample[],
    tool: 'netprobe' | 'netprobe-upload',
    rate: number,
    rttMetric: string,
    side: 'namespace' | 'host',
  ): BenchRow[] => {
    const idle = med(list, tool, 'idleRttMs');
    const loaded = med(list, tool, 'loadedRttMs');
    const modelWaitMs = med(list, tool, 'waitBytes') / ((rate * 1e6) / 8 / 1000);
    // The queue's delay as the kernel-timed ICMP echo read it in the same transfers.
    const runs = list.filter(
      (s) => s.tool === tool && typeof s.icmpRttMs === 'number' && typeof s.loadedRttMs === 'number' && typeof s.idleRttMs === 'number',
    );
    const icmpAdded = runs.length > 0 ? median(runs.map((s) => s.icmpRttMs! - idleIcmpMs)) : NaN;
    const measured = Number.isFinite(icmpAdded);
    const queueMs = measured ? icmpAdded : modelWaitMs;
    const queueName = measured
      ? `the ${side} tbf queue's delay (kernel-timed ICMP echo through it: loaded − idle)`
      : `${side} tbf queue wait ÷ rate (no ping: the backlog model)`;
    const modelName = `${side} tbf queue wait ÷ rate, the backlog model`;
    const queueDelayMs = idle + queueMs;
    const foreignProbes = med(list, tool, 'rpmProbes');
    const selfProbes = med(list, tool, 'rpmSelfProbes');
    const direction = tool === 'netprobe-upload' ? 'upload' : 'download';
    // No target: an RPM is timed in user space, as the draft's (the round trips the process saw),
    // while its reference is the network's alone; the gap is the two event loops' own time, ~10 %
    // of the 10 Mbit/s queue and as long as the sub-millisecond one at 1 Gbit/s (0.42–0.53× there).
    // The issue asks for RPM with its probe counts; loaded RTT (kernel-timed) carries the target.
    const rpmRow = (metric: string, rpm: number): BenchRow => ({
      bench: 'accuracy',
      metric: `${metric}, timed in user space as the draft's`,
      netprobe: rpm,
      reference: 60_000 / queueDelayMs,
      referenceName: `60,000 ÷ (idle RTT + ${queueName}, ms)`,
      ratio: rpm / (60_000 / queueDelayMs),
      unit: 'round trips/min',
    });
    const neutral = med(list, tool, 'neutralRttMs');
    const icmp = med(list, tool, 'icmpRttMs');
    const icmpModelMs = idleIcmpMs + modelWaitMs;
    // The delay each run's loaded RTT adds to its idle one, netprobe's against the ICMP echo's.
    const npAdded = runs.length > 0 ? median(runs.map((s) => s.loadedRttMs! - s.idleRttMs!)) : NaN;
    const icmpRows: BenchRow[] = Number.isFinite(icmp * icmpModelMs)
      ? [
          {
            bench: 'accuracy',
            metric: `${rttMetric}: the ICMP echo timed by the kernel (ping, receive timestamps) against the backlog model`,
            netprobe: icmp,
            reference: icmpModelMs,
            referenceName: `idle ICMP RTT + ${modelName}`,
            ratio: icmp / icmpModelMs,
            unit: 'ms',
          },
          {
            bench: 'accuracy',
            metric: `${rttMetric}: delay added by the load (loaded − idle RTT), netprobe vs the kernel-timed ICMP echo in the same transfers`,
            netprobe: npAdded,
            reference: icmpAdded,
            referenceName: 'ICMP echo: loaded − idle ICMP RTT',
            ratio: npAdded / icmpAdded,
            unit: 'ms',
          },
        ]
      : [];
    // The sender's own kernel RTT of the loaded flow (tcpRttMs) against the kernel-timed base: idle
    // ICMP RTT + the queue's delay (the PING-timed idle RTT when ping is missing). Context, no target:
    // the flow's own segments wait behind the standing queue they build and their ACKs may be
    // delayed, so srtt sits above what a packet joining the queue waits (1.2–1.5× in the 2026-12-07
    // runs); the result's loaded RTT is the probes' figure and carries the target.
    const tcpRtt = med(list, tool, 'tcpRttMs');
    const tcpReferenceMs = (Number.isFinite(idleIcmpMs) ? idleIcmpMs : idle) + queueMs;
    const tcpRows: BenchRow[] = Number.isFinite(tcpRtt)
      ? [
          {
            bench: 'accuracy',
            metric: `${rttMetric}: the sending TCP's smoothed RTT from its kernel (tcpRttMs, TCP_INFO)`,
            netprobe: tcpRtt,
            reference: tcpReferenceMs,
            referenceName: `${Number.isFinite(idleIcmpMs) ? 'idle ICMP RTT' : 'idle RTT'} + ${queueName}`,
            ratio: tcpRtt / tcpReferenceMs,
            unit: 'ms',
          },
        ]
      : [];
    return [
      ...icmpRows,
      ...tcpRows,
      // Context, no target: another tool's reading, timed in user space as netprobe's PINGs once
      // were, so the host's own time shows (1.05–1.3× at 10 Mbit/s, 1.45–1.6× at 1 Gbit/s here).
      {
        bench: 'accuracy',
        metric: `${rttMetric}: a prober not netprobe's (TCP SYN → RST, timed in user space)`,
        netprobe: neutral,
        reference: idleReferenceMs + queueMs,
        referenceName: `TCP connect RTT + ${queueName}`,
        ratio: neutral / (idleReferenceMs + queueMs),
        unit: 'ms',
      },
      {
        bench: 'accuracy',
        metric: `${rttMetric}: against the backlog model (bimodal at 10 Mbit/s, see bench/accuracy.ts)`,
        netprobe: loaded,
        reference: idle + modelWaitMs,
        referenceName: `idle RTT + ${modelName}`,
        ratio: loaded / (idle + modelWaitMs),
        unit: 'ms',
      },
      {
        bench: 'accuracy',
        metric: rttMetric,
        netprobe: loaded,
        reference: queueDelayMs,
        referenceName: `idle RTT + ${queueName}`,
        ratio: loaded / queueDelayMs,
        unit: 'ms',
        target: '≈ 1× (±20 %)',
      },
      rpmRow(`foreign RPM at ${rate} Mbit/s, ${direction} (${foreignProbes} probes a run)`, med(list, tool, 'rpmForeign')),
      rpmRow(
        `RPM at ${rate} Mbit/s, ${direction} (${foreignProbes} foreign + ${selfProbes} self probes a run${selfProbes > 0 ? ': self probes wait in the sending socket too' : ''})`,
        med(list, tool, 'rpm'),
      ),
    ];
  };
  for (const rate of RATES_MBPS) {
    const list = samples.get(rate)!;
    const np = med(list, 'netprobe', 'mbps');
    const at = `${rate} Mbit/s`;
    rows.push(...throughputRows(list, 'netprobe', 'curl', `throughput at ${at} (tbf), vs curl`, 'curl'));
    rows.push(...throughputRows(list, 'netprobe', 'iperf3', `throughput at ${at} (tbf), vs iperf3`, 'iperf3 -R'));
    rows.push({
      bench: 'accuracy',
      metric: `throughput at ${at} (tbf), vs configured rate`,
      netprobe: np,
      reference: rate,
      referenceName: 'tbf rate',
      ratio: np / rate,
      unit: 'Mbit/s',
      target: `≈ ${PAYLOAD_SHARE.toFixed(3)}× (headers)`,
    });
    rows.push(
      ...throughputRows(
        list,
        'netprobe-streams',
        'iperf3-streams',
        `--streams ${STREAMS} at ${at} (tbf), vs iperf3 -P ${STREAMS}`,
        `iperf3 -R -P ${STREAMS}, common interval`,
      ),
    );
    rows.push(...everyRunRows(list, 'netprobe-streams', rate, `--streams ${STREAMS} at ${at} (tbf), every run vs the link`));
    rows.push(...throughputRows(list, 'netprobe-duration', 'iperf3', `duration mode (${SECONDS} s) at ${at}, vs iperf3`, 'iperf3 -R'));
    rows.push(
      ...throughputRows(
        list,
        'netprobe-duration-streams',
        'iperf3-duration-streams',
        `duration mode (${SECONDS} s) --streams ${STREAMS} at ${at}, vs iperf3 -P ${STREAMS} -t ${SECONDS}`,
        `iperf3 -R -P ${STREAMS} -t ${SECONDS}, common interval`,
      ),
    );
    const idle = med(list, 'netprobe', 'idleRttMs');
    const queueMs = shapes.get(rate)!.limitBytes / ((rate * 1e6) / 8 / 1000);
    rows.push(...queueRows(list, 'netprobe', rate, `loaded RTT at ${at} (tbf queue ≤ ${queueMs.toFixed(0)} ms)`, 'namespace'));
    if (list.some((s) => s.tool === 'netprobe-upload')) {
      rows.push(
        ...throughputRows(
          list,
          'netprobe-upload',
          'iperf3-upload',
          `upload at ${at} (tbf on the host side), vs iperf3`,
          'iperf3 (client → server)',
        ),
      );
      rows.push(...queueRows(list, 'netprobe-upload', rate, `upload loaded RTT at ${at}`, 'host'));
    }
    rows.push(
      ...throughputRows(
        list,
        'netprobe-upload-streams',
        'iperf3-upload-streams',
        `upload --streams ${STREAMS} at ${at} (tbf on the host side), vs iperf3 -P ${STREAMS}`,
        `iperf3 -P ${STREAMS} (client → server, ${UPLOAD_STREAMS_REFERENCE_SCALE}× the bytes), receiver's common interval`,
      ),
    );
    rows.push(
      ...everyRunRows(
        list,
        'netprobe-upload-streams',
        rate,
        `upload --streams ${STREAMS} at ${at} (tbf on the host side), every run vs the link`,
      ),
    );
    // No ratio: both are fractions of a millisecond here, netprobe's includes TLS and two event loops.
    rows.push({
      bench: 'accuracy',
      metric: `idle RTT (no load) before the download, ${at}`,
      netprobe: idle,
      reference: idleReferenceMs,
      referenceName: 'TCP connect RTT',
      unit: 'ms',
      target: '< 1 ms above the reference',
    });
  }
  const details = Object.fromEntries([...samples].map(([rate, list]) => [`${rate}Mbps`, { shape: shapes.get(rate), samples: list }]));
  await writeResult('accuracy', rows, { runs: RUNS, seconds: SECONDS, queueMs: QUEUE_MS, idleReferenceMs, idleIcmpMs, details });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // Leave no namespace behind on Ctrl-C (the 'exit' handler in ./netns.ts does the work).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  printTable(await benchAccuracy());
}
