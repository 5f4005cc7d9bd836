/**
 * Where the server's CPU goes in the 1,000-client round, by Linux perf rather than V8's profiler
 * (bench/profile.ts --round --perf). V8's `--cpu-prof` samples the main thread by wall clock: time
 * blocked in a system call (SQLite's fsync) or waiting for a core counts as the function on the
 * stack, and work on other threads (the optimising compiler, concurrent GC marking) is not seen.
 * `perf record` samples only time on a CPU, in every thread of the server's processes, with native
 * frames (OpenSSL, the kernel) and, through node's `--perf-basic-prof`, JavaScript function names.
 *
 * Each sample is put in the first category whose pattern matches a frame of its call stack, so a
 * category is inclusive: "X.509 and TLS session decoding" holds the OpenSSL decoder calls whether
 * the handshake, a resumed ticket or getPeerX509Certificate made them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** [category, test on one frame's symbol]: the first category with a matching frame wins. */
export const PERF_CATEGORIES: [string, RegExp][] = [
  ["V8's optimising compiler (its own threads)", /OptimizingCompileDispatcher|compiler::Pipeline/],
  ['GC (main thread and helpers)', /Heap::|Scavenge|Marking|Sweeper|MarkCompact|ArrayBufferSweeper|GCTracer/],
  ['X.509 and TLS session decoding (OpenSSL decoders)', /d2i_|OSSL_DECODER|asn1_item_embed_d2i/],
  ['TLS handshake crypto (ECDHE, ECDSA)', /ecp_nistz256|x25519|ecdsa|ECDSA|EC_POINT|fe_mul|fe64_/],
  ['SQLite (better-sqlite3)', /better_sqlite3|sqlite3/],
  ['IPC (worker ↔ primary)', /child_process|serialization|writeChannelMessage/],
  ['transfer and frame writes (SSL_write: encryption, loopback send)', /TLSWrap::DoWrite|TLSWrap::EncOut/],
  ['TLS reads and handshake state machine (the rest)', /SSL_read|ssl3_read|SSL_do_handshake|state_machine/],
  ['JavaScript (netprobe and node core) and V8 runtime', /^JS:|^Builtins_|v8::/],
  ['kernel (other system calls)', /^entry_SYSCALL|^do_syscall/],
];

export interface PerfStack {
  pid: number;
  /** Symbols, the sampled one first. */
  frames: string[];
}

/** Parses `perf script -F pid,tid,ip,sym` output: a "pid/tid" line, then one "ip symbol" line per frame. */
export function parsePerfScript(text: string): PerfStack[] {
  const stacks: PerfStack[] = [];
  let current: PerfStack | undefined;
  for (const line of text.split('\n')) {
    const s = line.trim();
    if (s === '') {
      if (current !== undefined) stacks.push(current);
      current = undefined;
      continue;
    }
    const head = /^(\d+)\/\d+$/.exec(s);
    if (head) {
      current = { pid: Number(head[1]), frames: [] };
      continue;
    }
    const space = s.indexOf(' ');
    current?.frames.push(space < 0 ? s : s.slice(space + 1));
  }
  if (current !== undefined) stacks.push(current);
  return stacks;
}

export interface Share {
  name: string;
  samples: number;
  share: number;
}

const shares = (counts: Map<string, number>, total: number): Share[] =>
  [...counts.entries()].map(([name, samples]) => ({ name, samples, share: samples / total })).sort((a, b) => b.samples - a.samples);

/** Samples per category (PERF_CATEGORIES, then 'other': mostly malloc and free, called from frames perf cannot walk). */
export function perfByCategory(stacks: readonly PerfStack[]): Share[] {
  const counts = new Map<string, number>();
  for (const { frames } of stacks) {
    const name = PERF_CATEGORIES.find(([, re]) => frames.some((f) => re.test(f)))?.[0] ?? 'other (malloc, free, …)';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return shares(counts, stacks.length);
}

/** Samples per JavaScript function nearest the sampled frame (the native code it called counts as its own). */
export function perfByJsFunction(stacks: readonly PerfStack[]): Share[] {
  const counts = new Map<string, number>();
  for (const { frames } of stacks) {
    const js = frames.find((f) => f.startsWith('JS:'));
    if (js === undefined) continue;
    const name = js.replace(/^JS:[*^~]?\s*/, '').replace(/file:\/\/\S*\/(dist|src|node_modules)\//, '$1/');
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return shares(counts, stacks.length);
}

/** The stacks `perf record` wrote to `file`, of the processes `pids` only. */
export async function readPerfStacks(file: string, pids: readonly number[]): Promise<PerfStack[]> {
  const { stdout } = await execFileAsync('perf', ['script', '-i', file, '-F', 'pid,tid,ip,sym'], { maxBuffer: 1 << 30 });
  const wanted = new Set(pids);
  return parsePerfScript(stdout).filter((s) => wanted.has(s.pid));
}

export function shareTable(title: string, rows: readonly Share[], top: number, column: string, msPerSample: number): string {
  const lines = [`### ${title}`, '', `| ${column} | samples | ≈ CPU ms | share |`, '| --- | ---: | ---: | ---: |'];
  for (const r of rows.slice(0, top)) {
    lines.push(
      `| ${column === 'function' ? `\`${r.name}\`` : r.name} | ${r.samples} | ${(r.samples * msPerSample).toFixed(0)} | ${(r.share * 100).toFixed(1)} % |`,
    );
  }
  return lines.join('\n');
}
