import { Command } from 'commander';
import { VERSION } from './version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: the report and the simulator pull in charts,
 * fonts and the dashboard bundle, which a `netprobe client` run on a schedule should not pay for
 * (loading every command cost about 1 CPU second per start; one command costs a fraction of that).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  server: async () => (await import('./server.js')).registerServer,
  client: async () => (await import('./client.js')).registerClient,
  analyse: async () => (await import('./analyse.js')).registerAnalyse,
  report: async () => (await import('./report.js')).registerReport,
  certs: async () => (await import('./certs.js')).registerCerts,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  demo: async () => (await import('./demo.js')).registerDemo,
  store: async () => (await import('./store.js')).registerStore,
};

export { VERSION };

/**
 * The command tree. Each command lives in its own file and only parses options and calls a module.
 * With `argv`, only the command it names is loaded (all of them when it names none: help, typos).
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('netprobe')
    .description('Secure network performance monitor: scheduled TLS downloads, measured, collected and analysed.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // One line for a usage mistake, the pointer to --help on it (no second line to miss).
    .configureOutput({ outputError: (text, write) => write(`netprobe: ${text.replace(/^error: /, '').trimEnd()} (run with --help for usage)\n`) });

  const named = argv?.slice(2).find((a) => !a.startsWith('-'));
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}
