import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net, { type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ErrorCodes } from '../../src/errors.js';
import { FrameDecoder } from '../../src/protocol/decoder.js';
import { FrameType } from '../../src/protocol/frame.js';
import { makeRandomFile } from '../../src/server/catalogue.js';
import {
  MAX_WRITE_SLICE_BYTES,
  MIN_WRITE_SLICE_BYTES,
  WRITE_BUDGET_BYTES,
  sendFile,
  sendForDuration,
  writeSliceBytes,
} from '../../src/server/transfer.js';

const MiB = 1024 * 1024;

/** A socket that takes every write at once and records each one's bytes. */
function recordingSocket(): { socket: Socket; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const socket = {
    destroyed: false,
    writableEnded: false,
    write: (data: Buffer) => (writes.push(Buffer.from(data)), true),
    cork: () => undefined,
    uncork: () => undefined,
    on: () => socket,
    off: () => socket,
  };
  return { socket: socket as unknown as Socket, writes };
}

describe('write slices of a transfer', () => {
  test('the budget is shared by the open connections in whole TLS records, within 16 KiB and 256 KiB', () => {
    assert.equal(writeSliceBytes(0), MAX_WRITE_SLICE_BYTES);
    assert.equal(writeSliceBytes(1), MAX_WRITE_SLICE_BYTES);
    assert.equal(writeSliceBytes(WRITE_BUDGET_BYTES / MAX_WRITE_SLICE_BYTES), MAX_WRITE_SLICE_BYTES);
    // 16 MiB / 200 = 83,886 B: five whole records.
    assert.equal(writeSliceBytes(200), 5 * MIN_WRITE_SLICE_BYTES);
    assert.equal(writeSliceBytes(500), 2 * MIN_WRITE_SLICE_BYTES);
    assert.equal(writeSliceBytes(1_000), MIN_WRITE_SLICE_BYTES);
    assert.equal(writeSliceBytes(100_000), MIN_WRITE_SLICE_BYTES);
  });

  for (const open of [1, 300, 1_000]) {
    test(`file mode with ${open} connections open: slices of writeSliceBytes, the file's bytes in order`, async () => {
      const file = makeRandomFile('3MiB', 3 * MiB + 5);
      const { socket, writes } = recordingSocket();
      let counted = 0;
      const sent = await sendFile(socket, file, { onBytes: (n) => (counted += n), openConnections: () => open });
      assert.equal(sent, file.sizeBytes);
      assert.equal(counted, file.sizeBytes);
      const [meta, ...slices] = writes;
      assert.ok(meta !== undefined);
      const expected = writeSliceBytes(open);
      assert.deepEqual(
        slices.slice(0, -1).map((s) => s.length),
        slices.slice(0, -1).map(() => expected),
      );
      const body = Buffer.concat(slices);
      assert.equal(createHash('sha256').update(body).digest('hex'), file.sha256);
    });
  }

  test('duration mode with 1,000 connections open: DATA frames of 16 KiB', async () => {
    const file = makeRandomFile('1MiB', MiB);
    const { socket, writes } = recordingSocket();
    let clockMs = 0;
    // Each read of the clock advances it: the transfer ends after a bounded number of frames.
    const sent = await sendForDuration(socket, file, 20, {
      onBytes: () => undefined,
      openConnections: () => 1_000,
      monoNow: () => clockMs++,
    });
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_WRITE_SLICE_BYTES + 64 });
    const frames = [...decoder.push(Buffer.concat(writes))];
    const data = frames.filter((f) => f.kind === 'frame' && f.type === FrameType.DATA);
    assert.ok(data.length > 0);
    assert.equal(sent, data.length * MIN_WRITE_SLICE_BYTES);
    for (const f of data) assert.equal(f.kind === 'frame' ? f.payload.length : -1, MIN_WRITE_SLICE_BYTES);
  });
});

describe('backpressure on a real socket', () => {
  /** A loopback TCP pair whose receiving end reads only when `drain()` is called. */
  async function slowPair(): Promise<{ sender: Socket; received: Buffer[]; readAll(): void; close(): void }> {
    const received: Buffer[] = [];
    let receiver: Socket | undefined;
    const server = net.createServer((s) => {
      receiver = s;
      s.pause();
      s.on('data', (d: Buffer) => received.push(d));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const sender = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => sender.once('connect', resolve));
    while (receiver === undefined) await new Promise((r) => setTimeout(r, 5));
    return {
      sender,
      received,
      readAll: () => receiver!.resume(),
      close: () => {
        sender.destroy();
        receiver?.destroy();
        server.close();
      },
    };
  }

  test('a file in 16 KiB slices waits for drain through one listener pair for the whole transfer, and leaves none behind', async () => {
    const pair = await slowPair();
    try {
      const file = makeRandomFile('64MiB', 64 * MiB + 3);
      const added: string[] = [];
      const on = pair.sender.on.bind(pair.sender);
      pair.sender.on = ((event: string, listener: (...args: unknown[]) => void) => {
        added.push(event);
        return on(event, listener);
      }) as typeof pair.sender.on;
      let waits = 0;
      const write = pair.sender.write.bind(pair.sender) as (data: Buffer) => boolean;
      pair.sender.write = ((data: Buffer) => {
        const took = write(data);
        if (!took) waits++;
        return took;
      }) as typeof pair.sender.write;
      const drainsBefore = pair.sender.listenerCount('drain');
      const closesBefore = pair.sender.listenerCount('close');
      const sending = sendFile(pair.sender, file, { onBytes: () => undefined, openConnections: () => 1_000 });
      // The receiver reads nothing for a while: the socket's buffers fill and the sender must wait.
      await new Promise((r) => setTimeout(r, 50));
      pair.readAll();
      assert.equal(await sending, file.sizeBytes);
      // 64 MiB in 16 KiB slices, more than the kernel's buffers hold: the sender waited many times,
      // with one 'drain' listener (there was one per wait before).
      assert.ok(waits >= 10, `${waits} waits`);
      assert.equal(added.filter((e) => e === 'drain').length, 1);
      assert.equal(added.filter((e) => e === 'close').length, 1);
      assert.equal(pair.sender.listenerCount('drain'), drainsBefore);
      assert.equal(pair.sender.listenerCount('close'), closesBefore);
      // Every byte arrives, in order, after FILE_META.
      const length = () => pair.received.reduce((n, b) => n + b.length, 0);
      for (let i = 0; i < 2_000 && length() < file.sizeBytes; i++) await new Promise((r) => setTimeout(r, 5));
      const all = Buffer.concat(pair.received);
      assert.equal(
        createHash('sha256')
          .update(all.subarray(all.length - file.sizeBytes))
          .digest('hex'),
        file.sha256,
      );
    } finally {
      pair.close();
    }
  });

  test('the receiver going away while the sender waits fails the transfer as closed and removes its listeners', async () => {
    const pair = await slowPair();
    const file = makeRandomFile('64MiB', 64 * MiB);
    const drainsBefore = pair.sender.listenerCount('drain');
    const sending = sendFile(pair.sender, file, { onBytes: () => undefined, openConnections: () => 1_000 });
    await new Promise((r) => setTimeout(r, 50));
    pair.close();
    await assert.rejects(sending, (err: NodeJS.ErrnoException) => err.code === ErrorCodes.closed);
    assert.equal(pair.sender.listenerCount('drain'), drainsBefore);
  });
});
