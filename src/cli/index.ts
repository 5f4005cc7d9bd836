#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { NetprobeError, UsageError, errorMessage } from '../errors.js';

/** Exit statuses: 0 ok, 1 runtime failure, 2 usage error (as commander and most CLIs do). */
try {
  const program = await buildProgram(process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (err instanceof UsageError) {
    process.stderr.write(`netprobe: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof NetprobeError) {
    process.stderr.write(`netprobe: ${err.message} (${err.code})\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`netprobe: unexpected error: ${errorMessage(err)}\n`);
    if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  }
}
