/**
 * The sender's TCP view (capability 'tcp-info') against the real server: the server samples its
 * kernel's TCP_INFO while it sends a download and says so in a TCP_INFO frame after the payload;
 * the client samples its own while it uploads. Results carry tcpRttMs and tcpRetransmits through
 * the store; a client of today's protocol never sees the frame; against a server without the
 * capability the fields stay out of the result.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerClient } from '../../src/cli/client.js';
import { parseEndpoint } from '../../src/client/endpoint.js';
import { probe } from '../../src/client/probe.js';
import { openSession } from '../../src/client/session.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { PROTOCOL_VERSION } from '../../src/protocol/frame.js';
import { encodeMessage, parseMessage } from '../../src/protocol/messages.js';
import { PING_MIN_RTO_US, quickAck, setMinRto } from '../../src/tcp-info.js';
import { serverTlsOptions } from '../../src/tls/options.js';
import type { Result, StoredResult } from '../../src/protocol/result.js';
import type { RunningServer } from '../../src/server/server.js';
import { type ClientFixture, clientFixture, fixtureServer } from '../client/helpers/setup.js';
import { WireClient } from '../helpers/wire.js';

let fx: ClientFixture;
before(async () => {
  fx = await clientFixture(['alice']);
});
after(() => fx.cleanup());

function server(t: { after(fn: () => Promise<void>): void }): Promise<RunningServer> {
  return fixtureServer(fx, t, { builtinFiles: ['1MiB', '10MiB'] });
}

async function measure(
  s: RunningServer,
  options: { direction?: 'download' | 'upload'; durationMs?: number; streams?: number },
): Promise<Result> {
  const { result } = await probe({
    endpoint: parseEndpoint(`127.0.0.1:${s.port}`),
    tls: fx.client,
    file: '10MiB',
    clientName: 'alice',
    ...options,
  });
  assert.equal(result.error, null, JSON.stringify(result.error));
  return result;
}

function assertTcp(r: Result): void {
  assert.ok(r.tcpRttMs !== null && r.tcpRttMs !== undefined && r.tcpRttMs > 0 && r.tcpRttMs < 1_000, `tcpRttMs ${r.tcpRttMs}`);
  assert.ok(typeof r.tcpRetransmits === 'number' && r.tcpRetransmits >= 0, `tcpRetransmits ${r.tcpRetransmits}`);
}

describe('sender TCP info', () => {
  test('download in file and duration mode, upload, and 3 parallel streams: the sender’s kernel RTT and retransmits', async (t) => {
    const s = await server(t);
    assertTcp(await measure(s, {}));
    assertTcp(await measure(s, { durationMs: 300 }));
    assertTcp(await measure(s, { direction: 'upload' }));
    assertTcp(await measure(s, { direction: 'upload', durationMs: 300, streams: 3 }));
    assertTcp(await measure(s, { streams: 3 }));
  });

  test('netprobe client --direction both: the stored results keep tcpRttMs and tcpRetransmits', async (t) => {
    const s = await server(t);
    const program = new Command('netprobe').exitOverride();
    registerClient(program);
    const args = ['client', '--server', `127.0.0.1:${s.port}`, '--ca', fx.pki.ca, '--cert', fx.pki.clients.alice!.cert];
    args.push('--key', fx.pki.clients.alice!.key, '--file', '1MiB', '--direction', 'both', '--count', '1');
    args.push('--outbox', join(await fx.tempDir(), 'outbox.db'), '--log-level', 'silent');
    await program.parseAsync(args, { from: 'user' });
    const rows: StoredResult[] = [];
    for await (const row of s.store.iterateResults()) rows.push(row);
    assert.equal(rows.length, 2);
    for (const r of rows) assertTcp(r);
  });

  test("a client of today's protocol (no 'tcp-info') gets the file and nothing after it", async (t) => {
    const s = await server(t);
    const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients.alice! });
    t.after(() => w.close());
    w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: ['duration', 'report', 'upload', 'streams'] });
    assert.equal((await w.next())?.type, 'WELCOME');
    const { reply, bytes } = await w.download('1MiB');
    assert.equal(reply?.type, 'FILE_META');
    assert.equal(bytes, 1024 * 1024);
    w.send({ type: 'PING', seq: 3 });
    const next = await w.next();
    assert.ok(next?.type === 'PONG' && next.seq === 3, JSON.stringify(next));
  });

  test("with 'tcp-info' the TCP_INFO frame follows the raw bytes, and follows DATA_END in duration mode", async (t) => {
    const s = await server(t);
    const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients.alice! });
    t.after(() => w.close());
    w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: ['duration', 'tcp-info'] });
    const welcome = await w.next();
    assert.ok(welcome?.type === 'WELCOME' && welcome.capabilities.includes('tcp-info'));
    const { bytes } = await w.download('10MiB');
    assert.equal(bytes, 10 * 1024 * 1024);
    const info = await w.next();
    assert.ok(info?.type === 'TCP_INFO' && info.samples >= 1 && info.rttMs! > 0 && info.retransmits! >= 0, JSON.stringify(info));
    w.send({ type: 'GET_FILE', name: '1MiB', durationMs: 200 });
    let m = await w.next();
    while (m?.type === 'FILE_META' || m?.type === 'DATA') m = await w.next();
    assert.equal(m?.type, 'DATA_END');
    assert.equal((await w.next())?.type, 'TCP_INFO');
  });

  test('a new client against a server without tcp-info measures as before, and its result has no tcp fields', async (t) => {
    const s = await server(t);
    const { SERVER_CAPABILITIES } = await import('../../src/server/connection.js');
    SERVER_CAPABILITIES.splice(SERVER_CAPABILITIES.indexOf('tcp-info'), 1);
    t.after(() => void SERVER_CAPABILITIES.push('tcp-info'));
    for (const direction of ['download', 'upload'] as const) {
      const r = await measure(s, { direction });
      assert.ok(r.throughputMbps! > 0);
      for (const field of ['tcpRttMs', 'tcpRetransmits']) assert.equal(Object.hasOwn(r, field), false, `${direction} ${field}`);
    }
  });

  test("with 'kernel-rtt' each PING's round trip is also timed by the kernels, never above what the process saw", async (t) => {
    const s = await server(t);
    const { session } = await openSession({ endpoint: parseEndpoint(`127.0.0.1:${s.port}`), tls: fx.client });
    t.after(() => session.close());
    assert.ok(session.offers('kernel-rtt'));
    const pings = [];
    for (let i = 0; i < 10; i++) pings.push(await session.ping());
    for (const { rttMs, kernelRttMs } of pings)
      assert.ok(kernelRttMs !== null && kernelRttMs > 0 && kernelRttMs <= rttMs, `${kernelRttMs} vs ${rttMs}`);
  });

  /**
   * A server speaking just HELLO/WELCOME and PING/PONG that takes `busyMs` of its event loop before
   * each PONG, as a loaded server does, and with `quick` asks its kernel to acknowledge each PING at once.
   */
  async function slowServer(t: { after(fn: () => void): void }, busyMs: number, quick: boolean): Promise<number> {
    const server = tls.createServer(serverTlsOptions(fx.server), (socket) => {
      const decoder = new FrameDecoder();
      socket.on('data', (chunk: Buffer) => {
        for (const item of decoder.push(chunk)) {
          if (item.kind !== 'frame') continue;
          const m = parseMessage(item);
          if (m.type === 'HELLO') {
            const welcome = { version: PROTOCOL_VERSION, serverId: 'slow', serverTimeMs: Date.now(), capabilities: ['kernel-rtt'] };
            socket.write(encodeMessage({ type: 'WELCOME', ...welcome, maxFrameBytes: 1 << 20, maxResultsPerReport: 10, files: [] }));
          } else if (m.type === 'GET_FILE') {
            // An empty file: the measurement's PINGs are what this server is for.
            const sha256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
            socket.write(encodeMessage({ type: 'FILE_META', name: m.name, sizeBytes: 0, sha256, mode: 'file' }));
          } else if (m.type === 'PING') {
            for (const until = performance.now() + busyMs; performance.now() < until;);
            socket.write(encodeMessage({ type: 'PONG', seq: m.seq, serverTimeMs: Date.now() }));
            if (quick) quickAck(socket);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    return (server.address() as AddressInfo).port;
  }

  test('a server 8 ms slow to answer: its kernel’s at-once ACK keeps the 8 ms out of the kernel-timed round trip', async (t) => {
    for (const quick of [true, false]) {
      const port = await slowServer(t, 8, quick);
      const { session } = await openSession({ endpoint: parseEndpoint(`127.0.0.1:${port}`), tls: fx.client });
      t.after(() => session.close());
      const pings = [];
      for (let i = 0; i < 5; i++) pings.push(await session.ping());
      const kernel = pings.map((p) => p.kernelRttMs!).sort((a, b) => a - b)[2]!;
      assert.ok(pings.every((p) => p.rttMs >= 8));
      // With the ACK at once, loopback's round trip; without it the ACK waits for the PONG.
      if (quick) assert.ok(kernel < 2, `kernel-timed ${kernel} ms with quickack`);
      else assert.ok(kernel >= 7, `kernel-timed ${kernel} ms without quickack`);
    }
  });

  test("a measurement's idle RTT is the kernel-timed median: the slow server's 8 ms stay out of it", async (t) => {
    const port = await slowServer(t, 8, true);
    const { result } = await probe({
      endpoint: parseEndpoint(`127.0.0.1:${port}`),
      tls: fx.client,
      file: 'empty',
      clientName: 'alice',
      loadedPingIntervalMs: 0,
    });
    assert.equal(result.error, null, JSON.stringify(result.error));
    assert.ok(result.idleRttMs !== null && result.idleRttMs < 2, `idle RTT ${result.idleRttMs} ms`);
  });

  /** Whether this kernel takes TCP_RTO_MIN_US (Linux 6.15 and later). */
  async function minRtoSupported(): Promise<boolean> {
    const listener = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const socket = net.connect((listener.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const supported = setMinRto(socket, PING_MIN_RTO_US) !== null;
    socket.destroy();
    listener.close();
    return supported;
  }

  /** The server side of the connection from client port `clientPort`, as `ss -tni` shows it. */
  function serverSide(serverPort: number, clientPort: number): string {
    return execFileSync('ss', ['-tniH', 'state', 'established', `( sport = :${serverPort} and dport = :${clientPort} )`], {
      encoding: 'utf8',
    });
  }

  /** Its RTO, ms. */
  function serverRtoMs(serverPort: number, clientPort: number): number {
    const line = serverSide(serverPort, clientPort);
    const rto = /\brto:(\d+(?:\.\d+)?)/.exec(line)?.[1];
    assert.ok(rto !== undefined, `no rto in ss output: ${line}`);
    return Number(rto);
  }

  /** The segments it retransmitted (ss omits the field while there are none). */
  function serverRetransmits(serverPort: number, clientPort: number): number {
    const line = serverSide(serverPort, clientPort);
    assert.match(line, /\brto:/, `no connection in ss output: ${line}`);
    return Number(/\bretrans:\d+\/(\d+)/.exec(line)?.[1] ?? 0);
  }

  test('past its first 16 segments a busy server still acknowledges each PING at once: the kernel-timed round trip leaves its wake-up out', async (t) => {
    if (!(await minRtoSupported())) return t.skip('this kernel has no TCP_RTO_MIN_US (Linux 6.15 and later)');
    const s = await server(t);
    const { session } = await openSession({ endpoint: parseEndpoint(`127.0.0.1:${s.port}`), tls: fx.client, pingOnly: true });
    t.after(() => session.close());
    const busyMs = 6;
    const late: number[] = [];
    for (let i = 0; i < 40; i++) {
      // PINGs 36 ms apart (with the 6 ms below): longer than the server's RTO with PING_MIN_RTO_US
      // (~24 ms), and each sent within 40 ms of the last PONG, which makes a Linux receiver delay
      // its ACKs (as a loaded pinger's PINGs every 50 ms do once the round trip exceeds 10 ms).
      await new Promise((resolve) => setTimeout(resolve, 30));
      const answer = session.ping();
      // The PING is on its way; this process (server and client alike) now does something else.
      for (const until = performance.now() + busyMs; performance.now() < until;);
      const { rttMs, kernelRttMs } = await answer;
      assert.ok(rttMs >= busyMs, `the process's round trip ${rttMs} ms`);
      // The kernel's quickack mode covers a connection's first 16 segments in any case.
      if (i >= 20 && kernelRttMs !== null) late.push(kernelRttMs);
    }
    assert.ok(late.length >= 15, `${late.length} kernel-timed round trips`);
    // The client acknowledges each PONG as it reads it, within the short RTO. Left to delay those ACKs,
    // the server's RTO grows with them past the gap between PINGs (the round trips below then hold
    // the 6 ms), or PONGs go twice (29 of 30 in a loopback trial). A few may on a machine that stalls
    // this process for 20 ms.
    const resent = serverRetransmits(s.port, session.socket.localPort!);
    assert.ok(resent <= 3, `${resent} PONGs the server sent again`);
    const fast = late.filter((ms) => ms < busyMs / 2);
    // Acknowledged when the server's process reads the PING, each would be >= busyMs.
    assert.ok(fast.length >= late.length * 0.8, `kernel-timed round trips (ms): ${late.join(' ')}`);
  });

  test("only a connection declared 'ping-only' gets the short minimum RTO, and it carries no transfer", async (t) => {
    if (!(await minRtoSupported())) return t.skip('this kernel has no TCP_RTO_MIN_US (Linux 6.15 and later)');
    const s = await server(t);
    const rtoMs: Record<string, number> = {};
    for (const pingOnly of [false, true]) {
      const { session } = await openSession({ endpoint: parseEndpoint(`127.0.0.1:${s.port}`), tls: fx.client, pingOnly });
      t.after(() => session.close());
      // The RTO falls to a new minimum by a quarter of the way per round trip.
      for (let i = 0; i < 16; i++) await session.ping();
      rtoMs[String(pingOnly)] = serverRtoMs(s.port, session.socket.localPort!);
    }
    // Over loopback the RTO is its minimum plus a few jiffies: 200 ms by default, 20 ms (PING_MIN_RTO_US) for PINGs only.
    assert.ok(rtoMs['false']! >= 200 && rtoMs['true']! < 100, JSON.stringify(rtoMs));

    for (const request of [
      { type: 'GET_FILE', name: '1MiB' },
      { type: 'PUT', name: '1MiB' },
    ] as const) {
      const w = await WireClient.connect(s.port, { ca: fx.pki.ca, ...fx.pki.clients.alice! });
      t.after(() => w.close());
      w.send({ type: 'HELLO', version: PROTOCOL_VERSION, software: 'test', capabilities: ['upload', 'kernel-rtt', 'ping-only'] });
      assert.equal((await w.next())?.type, 'WELCOME');
      w.send(request);
      const answer = await w.next();
      assert.ok(answer?.type === 'ERROR', JSON.stringify(answer));
      assert.equal(answer.message, `${request.type} on a connection the client declared 'ping-only'`);
    }
  });
});
