/**
 * README.md's quick start, run as written against a real server on loopback: the commands of its
 * block `quickstart` (test/docs/readme-blocks.ts) (certificates → server → client on a schedule → analyse → report), with the
 * built CLI for `npx netprobe`, in a fresh folder. Two changes only, both from the rules of the
 * house: the server's ports become 0 (no fixed ports; the client is pointed at the port the server
 * logs), and the scheduled client stops after `--count 1`. Then the dashboard of step 6 answers
 * with the token the server kept next to the store.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { netprobe, tempDir } from '../cli/helpers.js';
import { stopChild } from '../helpers/children.js';
import { runCli } from '../helpers/process.js';
import { README, readmeBlock } from './readme-blocks.js';

/** The quick start block's commands (every one an `npx netprobe …` command), as argument lists. */
export function quickStartCommands(readme: string): string[][] {
  return readmeBlock('quickstart', readme).commands.map((l) => {
    assert.match(l, /^npx netprobe /, `a quick start command that is not \`npx netprobe …\`: ${l}`);
    assert.doesNotMatch(l, /["'`$|;&<>]/, `a quick start command this test cannot run without a shell: ${l}`);
    return l.split(/\s+/).slice(2);
  });
}

function replaceValue(args: string[], flag: string, value: string): string[] {
  const i = args.indexOf(flag);
  assert.ok(i >= 0 && i + 1 < args.length, `the quick start's command has no ${flag}: ${args.join(' ')}`);
  return [...args.slice(0, i + 1), value, ...args.slice(i + 2)];
}

test('the README quick start runs as written: certificates, server, client, analyse, report, dashboard', async (t) => {
  const commands = quickStartCommands(README);
  assert.deepEqual(
    commands.map((c) => c.slice(0, c[0] === 'certs' ? 2 : 1).join(' ')),
    ['certs init', 'certs client', 'server', 'client', 'analyse', 'report'],
  );
  const [init, clientCert, server, client, analyse, report] = commands as [string[], string[], string[], string[], string[], string[]];
  const dir = await tempDir(t, 'netprobe-quickstart-');

  for (const args of [init, clientCert]) {
    const run = await netprobe(args, { cwd: dir });
    assert.equal(run.code, 0, `netprobe ${args.join(' ')}: ${run.stderr}`);
  }

  const serverArgs = replaceValue(replaceValue(server, '--port', '0'), '--http', '127.0.0.1:0');
  const srv = runCli(serverArgs, {}, dir);
  t.after(() => stopChild(srv.child));
  const listening = await srv.waitFor((l) => l.msg === 'listening', 60_000);
  const dashboard = await srv.waitFor((l) => typeof l.url === 'string' && typeof l.tokenFile === 'string', 60_000);

  const clientArgs = [...replaceValue(client, '--server', `127.0.0.1:${String(listening.port)}`), '--count', '1'];
  const measured = await netprobe(clientArgs, { cwd: dir, timeoutMs: 120_000 });
  assert.equal(measured.code, 0, `netprobe ${clientArgs.join(' ')}: ${measured.stderr}`);

  const analysed = await netprobe(analyse, { cwd: dir, timeoutMs: 120_000 });
  assert.equal(analysed.code, 0, analysed.stderr);
  assert.match(analysed.stdout, /1 clients, 1 downloads, 0 failed/);
  assert.match(analysed.stdout, /^alice\s+1\s+0\s/m);

  const reported = await netprobe(report, { cwd: dir, timeoutMs: 120_000 });
  assert.equal(reported.code, 0, reported.stderr);
  const out = report[report.indexOf('--out') + 1]!;
  assert.ok(existsSync(join(dir, out, 'index.html')), `no ${out}index.html`);
  assert.match(readFileSync(join(dir, out, 'results.csv'), 'utf8').split('\n')[1] ?? '', /alice/);

  // step 6: the dashboard, with the token kept next to the store
  const token = readFileSync(String(dashboard.tokenFile), 'utf8').trim();
  const page = await fetch(new URL('/api/snapshot', String(dashboard.url)), { headers: { authorization: `Bearer ${token}` } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /alice/);
  assert.equal((await fetch(new URL('/api/snapshot', String(dashboard.url)))).status, 401);
});

test('self-test: a quick start that lost a step, or needs a shell, is refused', () => {
  const ann = '<!-- readme-test: quickstart · test/docs/quickstart.test.ts -->\n\n';
  assert.throws(() => quickStartCommands('# x\n'), /no block annotated "readme-test: quickstart"/);
  assert.throws(() => quickStartCommands(`${ann}\`\`\`sh\nnpx netprobe certs init --dir "my certs"\n\`\`\`\n`), /without a shell/);
  assert.throws(
    () => quickStartCommands(`${ann}\`\`\`sh\nnpx netprobe certs init\nrm -rf certs\n\`\`\`\n`),
    /not `npx netprobe …`: rm -rf certs/,
  );
  const short = quickStartCommands(
    `${ann}\`\`\`sh\nnpx netprobe certs init --dir certs   # CA\nnpx netprobe server \\\n  --port 7443\n\`\`\`\n`,
  );
  assert.deepEqual(short, [
    ['certs', 'init', '--dir', 'certs'],
    ['server', '--port', '7443'],
  ]);
});
