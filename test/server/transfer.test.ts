import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
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
