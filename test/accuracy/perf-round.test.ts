/**
 * bench/perf-round.ts, the rules of `bench/profile.ts --round --perf`: `perf script` output parsed
 * into stacks, each sample put in the first category with a frame in its stack, and the JavaScript
 * function nearest each sample.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePerfScript, perfByCategory, perfByJsFunction } from '../../bench/perf-round.js';

// Four samples as `perf script -F pid,tid,ip,sym` prints them: the sampled frame first.
const SCRIPT = `
  101/101     
	    1765ced OSSL_DECODER_CTX_new_for_pkey
	    17bd08c x509_pubkey_ex_d2i_ex
	    a35a2b node::crypto::TLSWrap::OnStreamRead
	    7fb05c051c55 JS:^onStreamRead node:internal/stream_base_commons:168:22
	    7fb05c051c00 JS:*process file:///srv/netprobe/dist/server/connection.js:147:18

  101/107     
	    b50bdf v8::internal::compiler::PipelineImpl::OptimizeGraph
	    b50bd0 v8::internal::OptimizingCompileDispatcher::CompileTask::RunInternal

  202/202     
	    7fb05c051c99 JS:*sendFile file:///srv/netprobe/dist/server/transfer.js:60:31
	    14cde03 Builtins_JSEntry

  101/101     
	    7f00aa _int_malloc
	    0 [unknown]
`;

test('perf script output parses into one stack per sample, with the process and the sampled frame first', () => {
  const stacks = parsePerfScript(SCRIPT);
  assert.equal(stacks.length, 4);
  assert.deepEqual(
    stacks.map((s) => s.pid),
    [101, 101, 202, 101],
  );
  assert.equal(stacks[0]!.frames[0], 'OSSL_DECODER_CTX_new_for_pkey');
  assert.equal(stacks[0]!.frames.length, 5);
  assert.equal(stacks[3]!.frames[1], '[unknown]');
});

test('a sample goes to the first category with a frame anywhere in its stack; malloc with no known caller is other', () => {
  const byName = new Map(perfByCategory(parsePerfScript(SCRIPT)).map((s) => [s.name, s]));
  // The decoder under JavaScript frames counts as decoding, not as JavaScript.
  assert.equal(byName.get('X.509 and TLS session decoding (OpenSSL decoders)')?.samples, 1);
  assert.equal(byName.get("V8's optimising compiler (its own threads)")?.samples, 1);
  assert.equal(byName.get('JavaScript (netprobe and node core) and V8 runtime')?.samples, 1);
  assert.equal(byName.get('other (malloc, free, …)')?.samples, 1);
  assert.equal(byName.get('other (malloc, free, …)')?.share, 0.25);
});

test('the JavaScript function nearest the sample, its file named from dist/', () => {
  const top = perfByJsFunction(parsePerfScript(SCRIPT));
  assert.deepEqual(
    top.map((s) => [s.name, s.samples]),
    [
      ['onStreamRead node:internal/stream_base_commons:168:22', 1],
      ['sendFile dist/server/transfer.js:60:31', 1],
    ],
  );
});
