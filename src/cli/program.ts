import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCerts } from './certs.js';
import { registerAnalyse } from './analyse.js';
import { registerClient } from './client.js';
import { registerDemo } from './demo.js';
import { registerReport } from './report.js';
import { registerServer } from './server.js';
import { registerSimulate } from './simulate.js';
import { registerStore } from './store.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const VERSION = pkg.version;

/** The command tree. Each command lives in its own file and only parses options and calls a module. */
export function buildProgram(): Command {
  const program = new Command('netprobe')
    .description('Secure network performance monitor: scheduled TLS downloads, measured, collected and analysed.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`netprobe: ${text.replace(/^error: /, '')}`) });

  registerServer(program);
  registerClient(program);
  registerAnalyse(program);
  registerReport(program);
  registerCerts(program);
  registerSimulate(program);
  registerDemo(program);
  registerStore(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}
