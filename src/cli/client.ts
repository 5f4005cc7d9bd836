import type { Command } from 'commander';
import { asArg, durationArg, intArg } from './args.js';
import { pino } from 'pino';
import { NetprobeClient } from '../client/client.js';
import { clientConfigSchema, clientOptionsFromConfig } from '../client/config.js';
import { formatResultTable } from '../client/format.js';
import { createLogger } from '../log.js';
import type { Result } from '../protocol/result.js';
import { loadTlsMaterial, parseTlsMinVersion } from '../tls/options.js';
import { parseFraction } from '../units.js';
import { readEnv, resolveConfig } from './config.js';

const int = intArg;
const duration = durationArg;
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), ...value.split(',').filter(Boolean)];

export function registerClient(program: Command): void {
  program
    .command('client')
    .description('measure downloads from a netprobe server on a schedule and report the results')
    .option('-c, --config <file>', 'JSON or YAML config file (keys as in the README)')
    .option('-s, --server <host:port>', 'server to measure against and report to; repeat for failover, first preferred', collect)
    .option('--ca <file>', 'CA certificate that signed the server (default certs/ca.crt)')
    .option('--cert <file>', 'this client certificate (its CN is the client name)')
    .option('--key <file>', 'this client private key')
    .option('--tls-min <version>', 'lowest TLS version: 1.3 (default) or 1.2', asArg(parseTlsMinVersion))
    .option('--file <name>', 'test file to download (default 10MiB)')
    .option('--verify <check>', 'file mode: sha256 (default) checks every download, none relies on TLS alone (for links above ~5 Gbit/s)')
    .option('--duration <duration>', 'duration mode: stream for this long instead of one file download', duration('duration'))
    .option('--interval <duration>', 'measure every this long (default 60s)', duration('interval'))
    .option('--jitter <percent>', 'delay each run by a random share of the interval (default 10%)', asArg((t) => parseFraction(t, 'jitter')))
    .option('--schedule <kind>', 'interval (default), poisson (exponential gaps, --mean) or cron (--cron)')
    .option('--mean <duration>', 'mean gap of the poisson schedule (default 5m)', duration('mean'))
    .option('--cron <expression>', 'cron schedule, e.g. "*/5 * * * *" (implies --schedule cron)')
    .option('--timezone <tz>', 'time zone of the cron expression (default local)')
    .option('--count <n>', 'stop after this many measurements', int('count', 1))
    .option('--once', 'one measurement, printed as a table, then report it and exit (status 1 if it failed)')
    .option('--json', 'print results as JSON lines on stdout (logs go to stderr)')
    .option('--outbox <file>', 'SQLite outbox of unsent results (default ./netprobe-outbox.db)')
    .option('--outbox-max <n>', 'results the outbox holds before refusing new ones (default 100000)', int('outbox max', 1))
    .option('--batch-size <n>', 'results per REPORT (default 500)', int('batch size', 1, 1000))
    .option('--connect-timeout <duration>', 'TCP connect deadline (default 10s)', duration('connect timeout'))
    .option('--tls-timeout <duration>', 'TLS handshake deadline (default 10s)', duration('TLS timeout'))
    .option('--response-timeout <duration>', 'GET_FILE to first answer deadline (default 30s)', duration('response timeout'))
    .option('--idle-timeout <duration>', 'longest silence during a transfer (default 30s)', duration('idle timeout'))
    .option('--transfer-timeout <duration>', 'whole download deadline (default 10m)', duration('transfer timeout'))
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace, silent')
    .option('--log-file <file>', 'also append JSON log lines to this file')
    .action(async (opts: Record<string, unknown>) => {
      const keys = Object.keys(clientConfigSchema.shape);
      const config = resolveConfig(clientConfigSchema, {
        file: opts.config as string | undefined,
        env: readEnv(keys, ['server']),
        flags: {
          server: opts.server, ca: opts.ca, cert: opts.cert, key: opts.key, tlsMin: opts.tlsMin, file: opts.file, verify: opts.verify,
          durationMs: opts.duration, intervalMs: opts.interval, jitter: opts.jitter, schedule: opts.schedule,
          meanMs: opts.mean, cron: opts.cron, timezone: opts.timezone, count: opts.count, once: opts.once, json: opts.json,
          outbox: opts.outbox, outboxMax: opts.outboxMax, batchSize: opts.batchSize,
          connectTimeoutMs: opts.connectTimeout, tlsTimeoutMs: opts.tlsTimeout, responseTimeoutMs: opts.responseTimeout,
          idleTimeoutMs: opts.idleTimeout, transferTimeoutMs: opts.transferTimeout, logLevel: opts.logLevel, logFile: opts.logFile,
        },
      });
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
        const results = await client.measure();
        results.forEach(print);
        await client.stop();
        process.exitCode = results.at(-1)?.error ? 1 : 0;
        logger.flush();
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
        await client.stop();
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        logger.flush();
      }
    });
}
