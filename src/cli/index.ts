#!/usr/bin/env node
import { runCli } from './program.js';

const code = await runCli(process.argv);
if (code !== undefined) process.exitCode = code;
