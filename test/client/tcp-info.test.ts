/**
 * The sender's kernel view of a transfer (src/tcp-info.ts): the native addon reads TCP_INFO of a
 * real loopback connection, plain and TLS, and the summary rule combines streams.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import net from 'node:net';
import { test } from 'node:test';
import { DeliveryRecorder, TcpSampler, combineTcpSummaries, readTcpInfo, tcpInfoSupport } from '../../src/tcp-info.js';

test('the addon is built and loads (npm install compiles native/tcp_info.c)', () => {
  assert.deepEqual(tcpInfoSupport(), { available: true });
});

test("each reading's figures are in their places, readings of two sockets do not share memory, and a wrong array is refused", async () => {
  const sent = 100 * 1024;
  let receiver: net.Socket | undefined;
  let received = 0;
  const allIn = new Promise<void>((resolve) => {
    const server = net.createServer((s) => {
      receiver = s;
      s.on('data', (d: Buffer) => {
        received += d.length;
        if (received === sent) resolve();
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.alloc(sent, 1)));
      sender = socket;
      closers.push(
        () => server.close(),
        () => socket.destroy(),
      );
    });
  });
  let sender: net.Socket | undefined;
  const closers: (() => void)[] = [];
  try {
    await allIn;
    // The ACKs of the last segments may still be on their way back: wait until the kernel counts them all.
    let out = readTcpInfo(sender!);
    for (let i = 0; i < 100 && out !== null && out.bytesAcked < sent + 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
      out = readTcpInfo(sender!);
    }
    const into = readTcpInfo(receiver!);
    assert.ok(out !== null && into !== null);
    const TCP_ESTABLISHED = 1;
    assert.equal(out.state, TCP_ESTABLISHED);
    // The SYN counts one byte acknowledged.
    assert.equal(out.bytesAcked, sent + 1, JSON.stringify(out));
    assert.ok(out.sndMss >= 536 && out.sndMss <= 65_535, JSON.stringify(out));
    assert.ok(out.delivered >= 2, JSON.stringify(out));
    assert.equal(into.bytesReceived, sent, JSON.stringify(into));
    assert.ok(into.dataSegsIn >= 2 && into.rcvMss > 0, JSON.stringify(into));
    assert.ok(into.bytesAcked <= 1, 'the receiver sent no data');
    // The first reading keeps its figures after the second.
    assert.equal(out.bytesAcked, sent + 1);
    const native = createRequire(import.meta.url)('../../build/Release/tcp_info.node') as {
      tcpInfo(fd: number, out: unknown): void;
    };
    const fd = (sender as unknown as { _handle: { fd: number } })._handle.fd;
    assert.throws(() => native.tcpInfo(fd, new Float64Array(10)), TypeError);
    assert.throws(() => native.tcpInfo(fd, new Float32Array(11)), TypeError);
    assert.throws(() => native.tcpInfo(fd, {}), TypeError);
    assert.throws(() => native.tcpInfo(-1, new Float64Array(11)), TypeError);
  } finally {
    for (const close of closers) close();
  }
});

test('a sender samples its smoothed RTT and retransmits while 32 MiB flow over loopback; a closed socket reads null', async () => {
  let received = 0;
  const server = net.createServer((s) => s.on('data', (d: Buffer) => (received += d.length)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  try {
    const idle = readTcpInfo(socket);
    assert.ok(idle !== null && idle.rttUs > 0 && idle.minRttUs > 0, JSON.stringify(idle));
    // A clock that moves 20 ms a call, so every sample() reads the kernel.
    let clock = 0;
    const sampler = new TcpSampler(socket, () => (clock += 20));
    const chunk = Buffer.alloc(256 * 1024, 7);
    for (let i = 0; i < 128; i++) {
      sampler.sample();
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    const summary = sampler.finish();
    assert.equal(summary.samples, 129);
    assert.ok(summary.rttMs !== null && summary.rttMs > 0 && summary.rttMs < 1000, JSON.stringify(summary));
    assert.equal(typeof summary.retransmits, 'number');
    assert.ok(summary.retransmits! >= 0);
  } finally {
    socket.destroy();
    server.close();
  }
  assert.equal(readTcpInfo(socket), null);
  assert.ok(received > 0);
});

test('both ends record their delivery curves: monotonic, flat while the receiver stalls, ending at every byte', async () => {
  // The receiver stops reading for 150 ms after its first MiB: the window fills and nothing more
  // is acknowledged by it, nor arrives at it.
  let received = 0;
  let resumedAtMs = 0;
  let receiving: DeliveryRecorder | undefined;
  const server = net.createServer((s) => {
    receiving = new DeliveryRecorder(s, 'receiver');
    s.on('data', (d: Buffer) => {
      const before = received;
      received += d.length;
      if (before < 1 << 20 && received >= 1 << 20) {
        s.pause();
        setTimeout(() => {
          resumedAtMs = performance.now();
          s.resume();
        }, 150);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  while (receiving === undefined) await new Promise((resolve) => setTimeout(resolve, 1));
  const total = 32 << 20;
  try {
    const sending = new DeliveryRecorder(socket, 'sender');
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < total / chunk.length; i++) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    while (received < total) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    for (const [side, curve] of [
      ['sender', sending.finish()],
      ['receiver', receiving.finish()],
    ] as const) {
      assert.ok(curve !== null, side);
      const points = curve.points;
      assert.equal(points[0]![1], curve.baseSegments, side);
      for (let i = 1; i < points.length; i++) {
        assert.ok(
          points[i]![0] >= points[i - 1]![0] && points[i]![1] >= points[i - 1]![1],
          `${side} point ${i}: ${JSON.stringify(points.slice(i - 1, i + 1))}`,
        );
      }
      // Every byte acknowledged, or received in order, and at least one segment per MSS of them.
      assert.equal(curve.tcpBytes, total, side);
      assert.ok(curve.segmentBytes !== null && curve.segmentBytes > 0, `${side}: MSS ${curve.segmentBytes}`);
      const mss = 65_483;
      assert.ok(points[points.length - 1]![1] - curve.baseSegments >= total / mss, `${side}: ${JSON.stringify(points.slice(-3))}`);
      // The stall is a flat stretch with both its ends kept (not a straight line across it), ending
      // when the receiver resumed (within the 2 ms poll and a busy machine's late timer).
      const flat = points.findIndex((p, i) => i > 0 && p[1] === points[i - 1]![1] && p[0] - points[i - 1]![0] >= 100);
      assert.ok(flat > 0, `${side}: no flat stretch of 100 ms: ${JSON.stringify(points.slice(0, 40))}`);
      assert.ok(
        points[flat]![0] <= resumedAtMs + 20,
        `${side}: the stretch ends at ${points[flat]![0]}, the receiver resumed at ${resumedAtMs}`,
      );
    }
  } finally {
    socket.destroy();
    server.close();
  }
  // A closed socket: nothing to record.
  assert.equal(new DeliveryRecorder(socket, 'sender').finish(), null);
});

test('samples are taken at most every 10 ms of the clock; the first reading is only the retransmit baseline', async () => {
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  try {
    let clock = 0;
    const sampler = new TcpSampler(socket, () => clock);
    for (clock = 1; clock < 50; clock += 1) sampler.sample(); // 49 calls over 49 ms: 4 samples (10, 20, 30, 40 ms)
    assert.equal(sampler.finish().samples, 5); // and the last one
  } finally {
    socket.destroy();
    server.close();
  }
});

test('streams combine: the samples-weighted median of their medians, retransmits added, unknown kept unknown', () => {
  assert.deepEqual(
    combineTcpSummaries([
      { rttMs: 3, samples: 10, retransmits: 1 },
      { rttMs: 1, samples: 2, retransmits: 0 },
      { rttMs: 2, samples: 3, retransmits: 4 },
    ]),
    { rttMs: 3, samples: 15, retransmits: 5 },
  );
  assert.deepEqual(
    combineTcpSummaries([
      { rttMs: 1, samples: 5, retransmits: 0 },
      { rttMs: 2, samples: 5, retransmits: null },
    ]),
    { rttMs: 1, samples: 10, retransmits: null },
  );
  assert.deepEqual(combineTcpSummaries([{ rttMs: null, samples: 0, retransmits: 0 }]), { rttMs: null, samples: 0, retransmits: 0 });
  assert.deepEqual(combineTcpSummaries([]), { rttMs: null, samples: 0, retransmits: null });
});
