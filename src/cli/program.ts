import { Command } from 'commander';
import { exitFor } from './exit.js';
import { VERSION } from './version.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when needed: the report and the simulator pull in charts,
 * fonts and the dashboard bundle, which a `netprobe client` run on a schedule should not pay for
 * (loading every command cost about 1 CPU second per start; one command costs a fraction of that).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  server: async () => {
    // Before the server's modules load: their loading is what grows a young generation (server/engine.ts).
    (await import('../server/engine.js')).keepYoungGenerationSmall();
    return (await import('./server.js')).registerServer;
  },
  client: async () => (await import('./client.js')).registerClient,
  analyse: async () => (await import('./analyse.js')).registerAnalyse,
  report: async () => (await import('./report.js')).registerReport,
  certs: async () => (await import('./certs.js')).registerCerts,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  demo: async () => (await import('./demo.js')).registerDemo,
  plan: async () => (await import('./plan.js')).registerPlan,
  store: async () => (await import('./store.js')).registerStore,
};

export { VERSION };

/** Where commander's own text goes (help, usage errors); stdout and stderr unless given. */
export interface ProgramOutput {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

/**
 * The command tree. Each command lives in its own file and only parses options and calls a module.
 * With `argv`, only the command it names is loaded (all of them when it names none: help, typos).
 */
export async function buildProgram(argv?: readonly string[], output: ProgramOutput = {}): Promise<Command> {
  const program = new Command('netprobe')
    .description('Secure network performance monitor: scheduled TLS downloads, measured, collected and analysed.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // One line for a usage mistake, the pointer to --help on it (no second line to miss). Set before
    // the commands are added: they take the configuration when they are created.
    .configureOutput({
      ...output,
      // commander puts its '(Did you mean --host?)' on a line of its own: joined into the one line.
      outputError: (text, write) =>
        write(
          `netprobe: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`,
        ),
    });

  const named = argv?.slice(2).find((a) => !a.startsWith('-'));
  const wanted = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((name) => COMMANDS[name]!()))) register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Runs the CLI on `argv` (`node netprobe ARGS…`), as bin/netprobe does: an error ends as one line on
 * stderr (a trace only for a bug) and its exit status is returned (1 runtime failure, 2 usage
 * error); undefined when the command ran (it may have set process.exitCode itself).
 */
export async function runCli(argv: readonly string[], output: ProgramOutput = {}): Promise<number | undefined> {
  try {
    const program = await buildProgram(argv, output);
    await program.parseAsync(argv);
    return undefined;
  } catch (err) {
    const { code, message } = exitFor(err);
    (output.writeErr ?? ((text: string) => process.stderr.write(text)))(message);
    return code;
  }
}
