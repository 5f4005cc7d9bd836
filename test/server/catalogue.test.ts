import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BUILTIN_PERIOD_BYTES, builtinDigests, buildCatalogue, makeRandomFile } from '../../src/server/catalogue.js';

const MiB = 1024 * 1024;

/**
 * A full garbage collection (V8's `gc`, exposed at run time), so that memory figures count what is
 * held, not garbage that a collection may or may not have freed yet: building the block leaves
 * 4 MiB of cipher output behind, and whether it was collected depended on the heap's history.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * The bytes of array buffers still held once garbage is gone. V8 frees dead array buffers' memory on a
 * background sweeper after a full collection, so `arrayBuffers` can still count them right after
 * `gc()` (on a busy machine: 8.1 MiB held where 4 MiB is the block, 5 runs of 15 at load 4). Collect
 * and give the sweeper a moment, until the figure stops falling (at most 20 rounds).
 */
async function heldArrayBuffers(): Promise<number> {
  let held = Infinity;
  for (let round = 0; round < 20; round++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = process.memoryUsage().arrayBuffers;
    if (now >= held) break;
    held = now;
  }
  return held;
}

/** The file read through in pieces of `pieceBytes`, as a transfer reads it. */
function readAll(file: { sizeBytes: number; slice(a: number, b: number): Buffer }, pieceBytes: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < file.sizeBytes; at += pieceBytes)
    parts.push(Buffer.from(file.slice(at, Math.min(file.sizeBytes, at + pieceBytes))));
  return Buffer.concat(parts);
}

describe('built-in test files', () => {
  test('the bytes are the same whatever the slicing, across the period, and match the SHA-256', () => {
    const file = makeRandomFile('10MiB', 10 * MiB);
    const whole = readAll(file, 256 * 1024);
    assert.equal(whole.length, 10 * MiB);
    assert.equal(createHash('sha256').update(whole).digest('hex'), file.sha256);
    for (const piece of [1021, 64 * 1024 + 7, BUILTIN_PERIOD_BYTES, 3 * MiB])
      assert.ok(readAll(file, piece).equals(whole), `pieces of ${piece} B`);
    // A slice that crosses the end of the period.
    const start = BUILTIN_PERIOD_BYTES - 1000;
    assert.ok(file.slice(start, start + 5000).equals(whole.subarray(start, start + 5000)));
    // Periodic: the content repeats with the period, and is not constant within it.
    assert.ok(whole.subarray(0, 4096).equals(whole.subarray(BUILTIN_PERIOD_BYTES, BUILTIN_PERIOD_BYTES + 4096)));
    assert.ok(!whole.subarray(0, 4096).equals(whole.subarray(4096, 8192)));
  });

  test('one seed gives the same files in every process; names give different bytes; digests computed once agree', async () => {
    const seed = randomBytes(32);
    const a = await buildCatalogue(['1MiB', '10MiB'], undefined, seed);
    const b = await buildCatalogue(['1MiB', '10MiB'], undefined, seed, builtinDigests(['1MiB', '10MiB'], seed));
    for (const name of ['1MiB', '10MiB']) {
      assert.equal(a.get(name).sha256, b.get(name).sha256);
      assert.ok(readAll(a.get(name), MiB).equals(readAll(b.get(name), MiB)));
    }
    assert.ok(!a.get('1MiB').slice(0, 4096).equals(a.get('10MiB').slice(0, 4096)), 'files of one seed start at different offsets');
    const other = await buildCatalogue(['1MiB'], undefined, randomBytes(32));
    assert.notEqual(other.get('1MiB').sha256, a.get('1MiB').sha256);
  });

  test('a catalogue of large built-in files holds one block, not the files', async () => {
    const seed = randomBytes(32);
    const digests = builtinDigests(['100MiB', '1GiB'], seed);
    const before = await heldArrayBuffers();
    const catalogue = await buildCatalogue(['100MiB', '1GiB'], undefined, seed, digests);
    const grownBytes = (await heldArrayBuffers()) - before;
    assert.equal(catalogue.get('1GiB').sizeBytes, 1024 * MiB);
    assert.ok(grownBytes < 2 * BUILTIN_PERIOD_BYTES, `catalogue holds ${(grownBytes / MiB).toFixed(1)} MiB`);
  });
});
