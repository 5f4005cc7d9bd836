/**
 * Where the CPU goes in a download (`npm run profile`): a netprobe server and `netprobe client
 * --once` fetching a large random file over TLS on loopback, both under node's `--cpu-prof`; prints
 * each side's top functions by self time, and writes the table to bench/profiles/<label>.md.
 *
 *   node --import tsx bench/profile.ts [--size MiB] [--verify sha256|none] [--label name]
 *
 * Not part of `npm run bench` (it measures where time goes, not how fast).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execFileAsync, spawnReady, writeRandomFile } from './lib.js';

const CLI = new URL('../dist/cli/index.js', import.meta.url).pathname;
const OUT_DIR = new URL('./profiles/', import.meta.url).pathname;

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : (process.argv[i + 1] ?? fallback);
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

/** Self time per function (name + file:line), largest first; `(idle)` and `(program)` included as node reports them. */
export function selfTimes(profile: CpuProfile): { totalMs: number; spots: HotSpot[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    const frame = byId.get(id)?.callFrame;
    const where = frame?.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : '';
    const key = `${frame?.functionName || '(anonymous)'}${where}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const busyUs = totalUs - (self.get('(idle)') ?? 0);
  const spots = [...self.entries()]
    .filter(([name]) => name !== '(idle)')
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
  return { totalMs: busyUs / 1000, spots };
}

async function newestProfile(dir: string): Promise<CpuProfile> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  return JSON.parse(await readFile(join(dir, files.at(-1)!), 'utf8')) as CpuProfile;
}

function table(title: string, result: { totalMs: number; spots: HotSpot[] }, top = 12): string {
  const lines = [`### ${title}: ${result.totalMs.toFixed(0)} ms on the CPU (idle left out)`, '', '| function | self ms | share |', '| --- | ---: | ---: |'];
  for (const s of result.spots.slice(0, top)) lines.push(`| \`${s.name}\` | ${s.selfMs.toFixed(0)} | ${(s.share * 100).toFixed(1)} % |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const sizeMiB = Number(flag('--size', '1024'));
  const verify = flag('--verify', 'sha256');
  const label = flag('--label', `download-${sizeMiB}MiB-${verify}`);
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-profile-'));
  try {
    await mkdir(join(dir, 'files'));
    await writeRandomFile(join(dir, 'files', 'big.bin'), sizeMiB * 2 ** 20);
    const certs = join(dir, 'certs');
    await execFileAsync(process.execPath, [CLI, 'certs', 'init', '--dir', certs]);
    await execFileAsync(process.execPath, [CLI, 'certs', 'client', 'profiler', '--dir', certs]);
    await mkdir(join(dir, 'server-prof'));
    await mkdir(join(dir, 'client-prof'));
    const server = await spawnReady(process.execPath, ['--cpu-prof', '--cpu-prof-dir', join(dir, 'server-prof'), CLI, 'server', '--host', '127.0.0.1', '--port', '0',
      '--ca', join(certs, 'ca.crt'), '--cert', join(certs, 'server.crt'), '--key', join(certs, 'server.key'), '--files', join(dir, 'files'),
      '--builtin-files', '', '--store', join(dir, 'p.db'), '--stats-interval', '0', '--log-level', 'info'], (l) => l.includes('"listening"'));
    const port = (JSON.parse(server.line) as { port: number }).port;
    const { stdout } = await execFileAsync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', join(dir, 'client-prof'), CLI, 'client', '--once', '--json',
      '--server', `127.0.0.1:${port}`, '--ca', join(certs, 'ca.crt'), '--cert', join(certs, 'clients', 'profiler.crt'),
      '--key', join(certs, 'clients', 'profiler.key'), '--file', 'big.bin', '--verify', verify, '--outbox', join(dir, 'outbox.db'), '--log-level', 'warn']);
    const result = JSON.parse(stdout.trim().split('\n')[0]!) as { throughputMbps: number; cpuMs: number; bytes: number; error: unknown };
    if (result.error) throw new Error(`download failed: ${JSON.stringify(result.error)}`);
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    const client = selfTimes(await newestProfile(join(dir, 'client-prof')));
    const srv = selfTimes(await newestProfile(join(dir, 'server-prof')));
    const text = [
      `## ${label}`,
      '',
      `${new Date().toISOString()}: one ${sizeMiB} MiB download over TLS on loopback, \`--verify ${verify}\`: ` +
        `${result.throughputMbps.toFixed(0)} Mbit/s, client CPU during the transfer ${(result.cpuMs / 1000 / (result.bytes / 2 ** 30)).toFixed(2)} s per GiB ` +
        '(profiling itself slows both sides down a little).',
      '',
      table('client (whole process)', client),
      '',
      table('server (whole process)', srv),
      '',
    ].join('\n');
    process.stdout.write(`${text}\n`);
    await mkdir(OUT_DIR, { recursive: true });
    await writeFile(join(OUT_DIR, `${label}.md`), text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
