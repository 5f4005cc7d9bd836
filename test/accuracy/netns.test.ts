/**
 * Throughput accuracy over a real shaped link: a network namespace of our own joined by a veth pair,
 * its egress shaped by tbf to 50 Mbit/s. The netprobe server and an independent HTTPS server (node's
 * https module) serve the same file from inside it; netprobe's probe() and curl download it in
 * turns from the host. netprobe's throughput must be within ±5 % of curl's.
 *
 * Needs root and iproute2: skipped (with the reason) elsewhere, failed instead under CI=true.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { type Netns, createNetns, netnsUnavailable } from '../../bench/netns.js';
import { probe } from '../../src/client/probe.js';
import { createCa, issueCert } from '../../src/tls/pki.js';
import { CLI } from '../helpers/process.js';

const execFileAsync = promisify(execFile);
const RATE_MBPS = 50;
const SECONDS = 2;
const RUNS = 3;
const TOLERANCE = 0.05;
const NP_PORT = 7443;
const HTTPS_PORT = 8443;

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

test(`netprobe's throughput over a ${RATE_MBPS} Mbit/s tbf link is within ±${TOLERANCE * 100} % of curl's`, { timeout: 120_000 }, async (t) => {
  const unavailable = await netnsUnavailable();
  if (unavailable !== undefined) {
    if (process.env.CI === 'true') assert.fail(`CI=true and the accuracy test cannot run: ${unavailable}`);
    t.diagnostic(`skipped: ${unavailable}`);
    process.stdout.write(`# netns accuracy test skipped: ${unavailable}\n`);
    t.skip(unavailable);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-netns-'));
  let ns: Netns | undefined;
  const cleanup = async () => {
    await ns?.cleanup();
    await rm(dir, { recursive: true, force: true });
  };
  t.after(cleanup);
  try {
    ns = await createNetns('tst');
    const ca = await createCa();
    const server = await issueCert(ca, { commonName: 'netns', usage: 'server', ipAddresses: [ns.nsAddr] });
    const client = await issueCert(ca, { commonName: 'alice', usage: 'client' });
    const files = join(dir, 'files');
    await mkdir(files);
    const file = join(files, 'link.bin');
    await writeFile(file, randomBytes((RATE_MBPS * 1e6 * SECONDS) / 8));
    for (const [name, pem] of [['ca.crt', ca.certPem], ['server.crt', server.certPem], ['server.key', server.keyPem]] as const) await writeFile(join(dir, name), pem, { mode: 0o600 });

    const np = ns.spawn(process.execPath, [CLI, 'server', '--host', ns.nsAddr, '--port', String(NP_PORT), '--ca', join(dir, 'ca.crt'),
      '--cert', join(dir, 'server.crt'), '--key', join(dir, 'server.key'), '--files', files, '--builtin-files', '',
      '--store', join(dir, 'server.db'), '--stats-interval', '0']);
    const https = ns.spawn(process.execPath, ['-e', HTTPS_SERVER, ns.nsAddr, String(HTTPS_PORT), join(dir, 'server.crt'), join(dir, 'server.key'), file]);
    await Promise.all([waitForLine(np, (l) => l.includes('"listening"')), waitForLine(https, (l) => l === 'listening')]);
    await ns.shape({ rateMbps: RATE_MBPS, queueMs: 25 });

    const tls = { ca: Buffer.from(ca.certPem), cert: Buffer.from(client.certPem), key: Buffer.from(client.keyPem) };
    const netprobeMbps: number[] = [];
    const curlMbps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { result } = await probe({ endpoint: { host: ns.nsAddr, port: NP_PORT }, tls, file: 'link.bin', clientName: 'alice' });
      assert.equal(result.error, null, JSON.stringify(result.error));
      assert.equal(result.sha256Ok, true);
      netprobeMbps.push(result.throughputMbps!);
      const { stdout } = await execFileAsync('curl', ['-s', '-o', '/dev/null', '--cacert', join(dir, 'ca.crt'),
        '-w', '%{size_download} %{time_starttransfer} %{time_total}', `https://${ns.nsAddr}:${HTTPS_PORT}/`]);
      const [bytes, start, total] = stdout.trim().split(' ').map(Number) as [number, number, number];
      // First to last byte of the body, as netprobe defines throughput.
      curlMbps.push((bytes * 8) / (total - start) / 1e6);
    }
    const ratio = median(netprobeMbps) / median(curlMbps);
    t.diagnostic(`netprobe ${netprobeMbps.map((x) => x.toFixed(2)).join(', ')} Mbit/s; curl ${curlMbps.map((x) => x.toFixed(2)).join(', ')} Mbit/s; ratio ${ratio.toFixed(3)}`);
    assert.ok(Math.abs(ratio - 1) <= TOLERANCE, `netprobe ÷ curl = ${ratio.toFixed(3)}, outside ±${TOLERANCE * 100} %`);
    // Both near the shaped rate less the headers (1448 payload bytes per 1514-byte frame).
    const expected = (RATE_MBPS * 1448) / 1514;
    assert.ok(Math.abs(median(netprobeMbps) / expected - 1) <= 0.08, `netprobe ${median(netprobeMbps)} Mbit/s vs ≈ ${expected.toFixed(1)} expected on the link`);
  } finally {
    await cleanup();
  }
  const { stdout } = await execFileAsync('ip', ['netns', 'list']);
  assert.ok(!stdout.includes(ns!.name), `namespace ${ns!.name} removed`);
});
