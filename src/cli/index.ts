#!/usr/bin/env node
import { exitFor } from './exit.js';
import { buildProgram } from './program.js';

try {
  const program = await buildProgram(process.argv);
  await program.parseAsync(process.argv);
} catch (err) {
  const { code, message } = exitFor(err);
  process.stderr.write(message);
  process.exitCode = code;
}
