/**
 * The layering of docs/ARCHITECTURE.md is a lint rule (.dependency-cruiser.cjs, run by `npm run
 * lint`): a deliberately wrong import fails it, an allowed one and the real tree pass.
 * test/lint/architecture.test.ts checks that the table and the config agree.
 *
 * dependency-cruiser runs in this process through its JS API, the way `depcruise src --config
 * .dependency-cruiser.cjs --output-type err` runs it from the tree's folder: loading it (and the
 * TypeScript compiler) once instead of once per case saves about a second of CPU per case.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { cruise as depcruise } from 'dependency-cruiser';
import extractDepcruiseConfig from 'dependency-cruiser/config-utl/extract-depcruise-config';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const ruleSet = await extractDepcruiseConfig(CONFIG);

/**
 * Runs the project's rules over `src` in `cwd`; the exit code (the number of errors) and the `err`
 * report. The config names paths relative to the folder cruised (`^src/`, `tsconfig.json`), so it
 * runs there, as the CLI would; the tests of this file run one at a time.
 */
async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  const here = process.cwd();
  process.chdir(cwd);
  try {
    const result = await depcruise(
      ['src'],
      { validate: true, ruleSet: structuredClone(ruleSet), outputType: 'err' },
      {},
      { tsConfig: extractTSConfig('tsconfig.json') },
    );
    return { code: result.exitCode, out: String(result.output) };
  } finally {
    process.chdir(here);
  }
}

async function tree(t: { after: (fn: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'netprobe-layering-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const base = { 'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true } }) };
  for (const [path, text] of Object.entries({ ...base, ...files })) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

test('a wrong arrow fails the layering rule; allowed arrows pass', async (t) => {
  const server = 'export const listen = (): number => 0;\n';
  const wrong = await tree(t, {
    'src/server/listener.ts': server,
    // protocol/ may import nothing of ours: the codec must not know the server.
    'src/protocol/codec.ts': "import { listen } from '../server/listener.js';\nexport const x = listen();\n",
  });
  const failed = await cruise(wrong);
  assert.notEqual(failed.code, 0, failed.out);
  assert.match(failed.out, /layer-protocol/);
  assert.match(failed.out, /src\/protocol\/codec\.ts → src\/server\/listener\.ts/);

  const webCode = await tree(t, {
    'src/server/context.ts': 'export class ServerContext {}\n',
    // web/ may see the server's types, not run its code.
    'src/web/live.ts': "import { ServerContext } from '../server/context.js';\nexport const c = new ServerContext();\n",
  });
  const code = await cruise(webCode);
  assert.notEqual(code.code, 0, code.out);
  assert.match(code.out, /web-uses-server-types-only/);

  const serverWeb = await tree(t, {
    'src/web/index.ts': 'export interface WebEndpoint { url: string }\n',
    // The server does not know its dashboard, not even its types.
    'src/server/running.ts': "import type { WebEndpoint } from '../web/index.js';\nexport interface Running { web: WebEndpoint }\n",
  });
  const coupled = await cruise(serverWeb);
  assert.notEqual(coupled.code, 0, coupled.out);
  assert.match(coupled.out, /server-not-web/);
  assert.match(coupled.out, /src\/server\/running\.ts → src\/web\/index\.ts/);

  const right = await tree(t, {
    'src/server/context.ts': 'export interface ServerContext { id: string }\n',
    'src/protocol/codec.ts': 'export const encode = (): number => 1;\n',
    'src/server/listener.ts': "import { encode } from '../protocol/codec.js';\nexport const y = encode();\n",
    'src/web/live.ts':
      "import type { ServerContext } from '../server/context.js';\nexport const id = (c: ServerContext): string => c.id;\n",
  });
  const passed = await cruise(right);
  assert.equal(passed.code, 0, passed.out);
});

test('a narrowed arrow fails: report/ running store/ code, server/ importing more of client/ than meter.ts', async (t) => {
  const reportCode = await tree(t, {
    'src/store/open.ts': 'export const openStore = (): number => 1;\n',
    // the report reads the store through the analysis and the AnalysisSource type, never opens one
    'src/report/html.ts': "import { openStore } from '../store/open.js';\nexport const s = openStore();\n",
  });
  const report = await cruise(reportCode);
  assert.notEqual(report.code, 0, report.out);
  assert.match(report.out, /report-uses-store-types-only/);

  const serverProbe = await tree(t, {
    'src/client/meter.ts': 'export const meter = (): number => 1;\n',
    'src/client/probe.ts': 'export const probe = (): number => 2;\n',
    'src/server/upload.ts': "import { meter } from '../client/meter.js';\nexport const m = meter();\n",
    'src/server/connection.ts': "import { probe } from '../client/probe.js';\nexport const p = probe();\n",
  });
  const server = await cruise(serverProbe);
  assert.notEqual(server.code, 0, server.out);
  assert.match(server.out, /server-uses-client-meter-only/);
  assert.match(server.out, /src\/server\/connection\.ts → src\/client\/probe\.ts/);
  assert.doesNotMatch(server.out, /upload\.ts/);
});

test('an import cycle fails, type-only imports included', async (t) => {
  const cycle = await tree(t, {
    'src/server/server.ts':
      "import { fork } from './cluster.js';\nexport interface Running { port: number }\nexport const start = (): number => fork();\n",
    // cluster.ts once took its types from server.ts, which imports it.
    'src/server/cluster.ts': "import type { Running } from './server.js';\nexport const fork = (r?: Running): number => r?.port ?? 0;\n",
  });
  const failed = await cruise(cycle);
  assert.notEqual(failed.code, 0, failed.out);
  assert.match(failed.out, /no-circular/);
});

test('the real tree follows the layering', async () => {
  const real = await cruise(ROOT);
  assert.equal(real.code, 0, real.out);
});
