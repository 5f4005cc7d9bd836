import type { Command } from 'commander';
import { asArg, durationArg, intArg } from './args.js';
import { errorCode, errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { serverConfigSchema } from '../server/config.js';
import { startServer } from '../server/server.js';
import { parseTlsMinVersion } from '../tls/options.js';
import { parseInteger } from '../units.js';
import { readEnv, resolveConfig } from './config.js';

const int = intArg;
const duration = durationArg;

export function registerServer(program: Command): void {
  program
    .command('server')
    .description('run the central TLS server: serve test files, collect, store and log results')
    .option('-c, --config <file>', 'JSON or YAML config file (keys as in the README)')
    .option('--host <host>', 'listen address (default 0.0.0.0)')
    .option('-p, --port <port>', 'listen port (default 7443; 0 = any free port)', int('port', 0, 65535))
    .option('--cert <file>', 'server certificate (default certs/server.crt)')
    .option('--key <file>', 'server private key (default certs/server.key)')
    .option('--ca <file>', 'CA that signs client certificates (default certs/ca.crt)')
    .option('--tls-min <version>', 'lowest TLS version: 1.3 (default) or 1.2', asArg(parseTlsMinVersion))
    .option('--deny-list <file>', 'revoked client certificates: SHA-256 fingerprints, one per line (reloaded on SIGHUP)')
    .option('--crl <file>', 'revocation list signed by the CA, from `netprobe certs revoke` (reloaded on SIGHUP)')
    .option('--store <location>', 'SQLite file or postgres://user@host/db[?schema=NAME] (default ./netprobe.db)')
    .option('--store-busy-timeout <duration>', 'wait this long for a locked database before answering NETPROBE_STORAGE (default 5s)', duration('store busy timeout'))
    .option('--files <dir>', 'also serve the regular files in this directory')
    .option('--builtin-files <sizes>', 'built-in random files, comma-separated (default 1MiB,10MiB,100MiB)', (v: string) => v.split(',').filter(Boolean))
    .option('--server-id <id>', 'name reported to clients (default hostname:port)')
    .option('--workers <n>', 'processes serving TLS: a number, or auto for one per core (default auto)', asArg((v: string) => (v === 'auto' ? 'auto' : parseInteger(v, 'workers', 1, 64))))
    .option('--max-connections <n>', 'open connections in total (default 10000)', int('max connections', 1))
    .option('--max-connections-per-client <n>', 'open connections per client certificate (default 16)', int('max connections per client', 1))
    .option('--max-concurrent-transfers <n>', 'transfers at once before answering BUSY (default 256)', int('max concurrent transfers', 1))
    .option('--max-frame-bytes <n>', 'largest control frame accepted (default 4194304)', int('max frame bytes', 1024))
    .option('--max-results-per-report <n>', 'results in one REPORT (default 1000)', int('max results per report', 1, 1000))
    .option('--handshake-timeout <duration>', 'TLS handshake deadline (default 10s)', duration('handshake timeout'))
    .option('--idle-timeout <duration>', 'close connections idle this long (default 60s)', duration('idle timeout'))
    .option('--frame-timeout <duration>', 'a frame must arrive in full within this long once it started (default 60s)', duration('frame timeout'))
    .option('--shutdown-deadline <duration>', 'on SIGTERM, wait this long for transfers in flight (default 30s)', duration('shutdown deadline'))
    .option('--stats-interval <duration>', 'aggregate log line period, 0 = off (default 60s)', duration('stats interval'))
    .option('--synchronous <mode>', 'SQLite durability: full (default, survives power loss) or normal')
    .option('--http <address>', 'serve the dashboard, /metrics and /healthz on host:port (a bare port binds 127.0.0.1)')
    .option('--http-tls', "serve them over HTTPS with the server's certificate (required off loopback)")
    .option('--http-token <token>', 'bearer token for the dashboard and /metrics (default: generated, logged once at start)')
    .option('--log-level <level>', 'fatal, error, warn, info (default), debug, trace, silent')
    .option('--log-file <file>', 'also append JSON log lines to this file')
    .action(async (opts: Record<string, unknown>) => {
      const keys = Object.keys(serverConfigSchema.shape);
      const config = resolveConfig(serverConfigSchema, {
        file: opts.config as string | undefined,
        // The command uses every core unless told otherwise (the library's default is one process).
        defaults: { workers: 'auto' },
        env: readEnv(keys, ['builtinFiles']),
        flags: {
          host: opts.host, port: opts.port, cert: opts.cert, key: opts.key, ca: opts.ca, tlsMin: opts.tlsMin,
          denyList: opts.denyList, crl: opts.crl, storeBusyTimeoutMs: opts.storeBusyTimeout, frameTimeoutMs: opts.frameTimeout,
          store: opts.store, workers: opts.workers, files: opts.files, builtinFiles: opts.builtinFiles, serverId: opts.serverId,
          maxConnections: opts.maxConnections, maxConnectionsPerClient: opts.maxConnectionsPerClient,
          maxConcurrentTransfers: opts.maxConcurrentTransfers, maxFrameBytes: opts.maxFrameBytes,
          maxResultsPerReport: opts.maxResultsPerReport, handshakeTimeoutMs: opts.handshakeTimeout,
          idleTimeoutMs: opts.idleTimeout, shutdownDeadlineMs: opts.shutdownDeadline, statsIntervalMs: opts.statsInterval,
          synchronous: opts.synchronous, logLevel: opts.logLevel, logFile: opts.logFile,
          http: opts.http, httpTls: opts.httpTls, httpToken: opts.httpToken,
        },
      });
      const logger = createLogger({ level: config.logLevel, file: config.logFile });
      const server = await startServer(config, {
        logger,
        // The one place a generated dashboard token appears: the operator's terminal, never the log.
        announceToken: (url, token) => process.stderr.write(`netprobe: dashboard: open ${url}?token=${token}\n`),
      });
      const onHangup = () => {
        logger.info({ denyList: config.denyList ?? null, crl: config.crl ?? null }, 'SIGHUP: reloading revocations');
        server.reloadRevocations().catch((err: unknown) =>
          logger.error({ code: errorCode(err), err: errorMessage(err) }, 'revocations not reloaded: the previous lists stay in force'),
        );
      };
      process.on('SIGHUP', onHangup);
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          logger.warn({ signal }, 'second signal: exiting now');
          logger.flush();
          process.exit(1);
        }
        logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'shutting down');
        void server.close().then(
          () => logger.flush(() => process.exit(0)),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            logger.flush(() => process.exit(1));
          },
        );
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
}
