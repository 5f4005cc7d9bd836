/**
 * The sender's kernel view of a transfer (src/tcp-info.ts): the native addon reads TCP_INFO of a
 * real loopback connection, plain and TLS, and the summary rule combines streams.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { TcpSampler, combineTcpSummaries, readTcpInfo, tcpInfoSupport } from '../../src/tcp-info.js';

test('the addon is built and loads (npm install compiles native/tcp_info.c)', () => {
  assert.deepEqual(tcpInfoSupport(), { available: true });
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
