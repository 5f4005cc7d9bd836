import type { Command } from 'commander';
import { pino } from 'pino';
import { NetprobeClient } from '../client/client.js';
import { clientConfigSchema, clientOptionsFromConfig } from '../client/config.js';
import { formatResultTable } from '../client/format.js';
import { createLogger } from '../log.js';
import type { Result } from '../protocol/result.js';
import { loadTlsMaterial } from '../tls/options.js';
import { clientTable } from './options/client.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';


export function registerClient(program: Command): void {
  addOptions(
    program.command('client').description('measure downloads from a netprobe server on a schedule and report the results'),
    clientTable,
  )
    .action(async (opts: Record<string, unknown>) => {
      const config = clientConfigSchema.parse(resolveOptions(clientTable, { flags: opts }));
      const printing = config.once || config.json;
      // stdout carries the table or JSON when printing; logs then go to stderr.
      const logger = createLogger({
        level: config.logLevel,
        file: config.logFile,
        stdout: !printing,
        ...(printing ? { stream: pino.destination({ dest: 2, sync: true }) } : {}),
      });
      const log = logger.child({ component: 'client' });
      const print = (result: Result) => process.stdout.write(config.json ? `${JSON.stringify(result)}\n` : `${formatResultTable(result)}\n\n`);
      const material = await loadTlsMaterial({ ca: config.ca, cert: config.cert, key: config.key });
      const client = new NetprobeClient(clientOptionsFromConfig(config, material), {
        logger,
        ...(printing && !config.once ? { onResult: print } : {}),
      });

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

      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          log.warn({ signal }, 'second signal: exiting now, the outbox keeps unsent results');
          logger.flush();
          process.exit(1);
        }
        log.info({ signal }, 'stopping: finishing the running measurement');
        void client.stop();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await client.run();
      } finally {
        await client.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        logger.flush();
      }
    });
}
