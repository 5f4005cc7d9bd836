import type { Command } from 'commander';
import { pino } from 'pino';
import { NetprobeClient } from '../client/client.js';
import { clientConfigSchema, clientOptionsFromConfig } from '../client/config.js';
import { RESULT_LINE_HEADER, formatResultLine, formatResultTable } from '../client/format.js';
import { createLogger } from '../log.js';
import type { Result } from '../protocol/result.js';
import { loadTlsMaterial } from '../tls/options.js';
import { clientTable } from './options/client.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';
import { onStopSignals } from './signals.js';

export function registerClient(program: Command): void {
  addOptions(
    program.command('client').description('measure downloads from a netprobe server on a schedule and report the results'),
    clientTable,
  ).action(async (opts: Record<string, unknown>) => {
    const config = clientConfigSchema.parse(resolveOptions(clientTable, { flags: opts }));
    // On a terminal the scheduled client prints a line per measurement (iperf3/ndt7 style); piped, it
    // keeps writing JSON log lines. --once prints its table, --json JSON lines of results.
    const lines = !config.json && !config.once && process.stdout.isTTY === true;
    const printing = config.once || config.json || lines;
    // While printing for a person, the log says only what went wrong, unless a level was asked for.
    const level = opts.logLevel === undefined && (config.once || lines) ? 'warn' : config.logLevel;
    // stdout carries the table, lines or JSON when printing; logs then go to stderr.
    const logger = createLogger({
      level,
      file: config.logFile,
      stdout: !printing,
      ...(printing ? { stream: pino.destination({ dest: 2, sync: true }) } : {}),
    });
    const log = logger.child({ component: 'client' });
    const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
    const print = (result: Result) => {
      if (config.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else if (lines) process.stdout.write(`${formatResultLine(result, client.outbox.count())}\n`);
      else process.stdout.write(`${formatResultTable(result)}\n\n`);
    };
    const client: NetprobeClient = new NetprobeClient(clientOptionsFromConfig(config, material), {
      logger,
      ...(printing && !config.once ? { onResult: print } : {}),
    });
    if (lines) process.stdout.write(`${RESULT_LINE_HEADER}\n`);

    if (config.once) {
      try {
        const results = await client.measure();
        results.forEach(print);
        process.exitCode = results.at(-1)?.error ? 1 : 0;
      } finally {
        await client.stop();
        logger.flush();
      }
      return;
    }

    const removeSignals = onStopSignals(
      log,
      (signal) => {
        log.info({ signal }, 'stopping: finishing the running measurement');
        void client.stop();
      },
      'second signal: exiting now, the outbox keeps unsent results',
    );
    try {
      await client.run();
    } finally {
      await client.stop();
      removeSignals();
      logger.flush();
    }
  });
}
