import { Command } from 'commander';
import { registerAnalyse } from '../../../src/cli/analyse.js';
import { exitFor } from '../../../src/cli/exit.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `netprobe analyse ARGS` in-process the way src/cli/index.ts does (its exitFor:
 * 0 ok, 1 runtime failure, 2 usage error), capturing what it prints.
 */
export async function runAnalyse(args: readonly string[], now: () => number = Date.now): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const program = new Command('netprobe').exitOverride().configureOutput({
    writeOut: (text) => (stdout += text),
    writeErr: (text) => (stderr += text),
    outputError: (text, write) => write(`netprobe: ${text.replace(/^error: /, '')}`),
  });
  registerAnalyse(program, { stdout: { write: (text: string) => (stdout += text) }, now });
  for (const command of program.commands) command.exitOverride();
  try {
    await program.parseAsync(['node', 'netprobe', 'analyse', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const { code, message } = exitFor(err);
    return { code, stdout, stderr: stderr + message };
  }
}
