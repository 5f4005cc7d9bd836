import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { StoredResult } from '../../src/protocol/result.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { sampleResult } from '../helpers/wire.js';
import { seededRandom as random } from '../../src/sim/random.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** Monday 2025-01-06 00:00 UTC. */
export const T0 = Date.UTC(2025, 0, 6);
export const MIN = 60_000;
export const HOUR = 3_600_000;

export interface Measure {
  client: string;
  at: number;
  mbps?: number;
  failed?: boolean;
  responseMs?: number;
  idleRttMs?: number | null;
  loadedRttMs?: number | null;
  overrides?: Partial<StoredResult>;
}

/** A stored result: 10 MB at `mbps` (download time follows), or a failure. */
export function stored(m: Measure): StoredResult {
  const startedAt = new Date(m.at).toISOString();
  const failed = m.failed ?? false;
  const mbps = m.mbps ?? 100;
  const responseMs = m.responseMs ?? 12;
  const transferMs = 80_000 / mbps;
  return {
    ...sampleResult({
      startedAt,
      bytes: failed ? 0 : 10_000_000,
      throughputMbps: failed ? null : mbps,
      goodputMbps: failed ? null : 80_000 / (transferMs + responseMs),
      downloadMs: failed ? null : responseMs + transferMs,
      transferMs: failed ? null : transferMs,
      responseMs: failed ? null : responseMs,
      idleRttMs: m.idleRttMs === undefined ? 8 : m.idleRttMs,
      loadedRttMs: m.loadedRttMs === undefined ? 30 : m.loadedRttMs,
      // RPM as the probe computes it from one loaded RTT (every probe alike: the trimmed mean is it).
      rpm: failed ? null : Math.round(60_000 / (m.loadedRttMs === undefined ? 30 : (m.loadedRttMs ?? Infinity))) || null,
      rpmProbes: 20,
      sha256Ok: failed ? null : true,
      error: failed ? { code: 'NETPROBE_TIMEOUT', message: 'timed out after 30 s' } : null,
    }),
    client: m.client,
    receivedAt: new Date(m.at + 1_500).toISOString(),
    serverConcurrentTransfers: 3,
    serverOutboundMbps: 900,
    ...m.overrides,
  };
}

/** A deterministic PRNG (mulberry32), shared with the simulator. */
export { random };

/**
 * A fleet measuring every `everyMs` for `days`: each client at its own speed, 60 % of it in the
 * evening (18–22 UTC) for most clients, some failures. Deterministic.
 */
export function fleet(clients: readonly string[], days: number, everyMs = 15 * MIN, seed = 1): Measure[] {
  const rand = random(seed);
  const out: Measure[] = [];
  clients.forEach((client, c) => {
    const speed = 20 + 400 * rand();
    for (let at = T0 + c * 7_000; at < T0 + days * 24 * HOUR; at += everyMs) {
      const hour = new Date(at).getUTCHours();
      const evening = hour >= 18 && hour < 22 && c % 5 !== 4;
      out.push({
        client,
        at,
        failed: rand() < 0.02,
        mbps: speed * (evening ? 0.35 : 1) * (0.9 + 0.2 * rand()),
        responseMs: 5 + 20 * rand() + (evening ? 40 : 0),
        idleRttMs: 5 + 10 * rand(),
        loadedRttMs: 20 + 60 * rand() + c,
      });
    }
  });
  return out.sort((a, b) => a.at - b.at);
}

export interface TempStore {
  store: SqliteStore;
  path: string;
  dir: string;
}

/** A real SQLite store in a temporary directory holding `measures`; closed and removed after the test. */
export async function storeWith(t: TestContext, measures: readonly Measure[]): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-report-'));
  const path = join(dir, 'results.db');
  const store = new SqliteStore(path, { synchronous: 'normal' });
  for (let i = 0; i < measures.length; i += 5_000) await store.insertResults([measures.slice(i, i + 5_000).map(stored)]);
  t.after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { store, path, dir };
}

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-report-out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG does not start with IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Checks that `xml` is well-formed: one root element, tags nested and closed, attributes quoted,
 * entities known. Returns the element names seen. Throws with the offset of the first problem.
 */
export function checkXml(xml: string): Map<string, number> {
  const names = new Map<string, number>();
  const stack: string[] = [];
  const token =
    /<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<\/?([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/g;
  let roots = 0;
  for (const m of xml.matchAll(token)) {
    const [text, name, , selfClosing] = m;
    if (text === '<' || text.startsWith('&')) throw new Error(`malformed XML at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (name === undefined) continue;
    if (text.startsWith('</')) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}> at ${m.index}`);
      continue;
    }
    names.set(name, (names.get(name) ?? 0) + 1);
    if (stack.length === 0) roots++;
    if (!selfClosing) stack.push(name);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return names;
}

/** RFC 4180 CSV → rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

const execFileAsync = promisify(execFile);

/** The path when the tool runs; else undefined after printing why (a failure when CI=true). */
export async function requireTool(path: string, why: string): Promise<string | undefined> {
  try {
    await execFileAsync(path, ['--version']);
    return path;
  } catch (err) {
    const reason = `${path} is not available (${(err as NodeJS.ErrnoException).code ?? 'error'}); ${why}`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true, so this is a failure`);
    console.log(`skipping: ${reason}`);
    return undefined;
  }
}
