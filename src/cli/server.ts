import type { Command } from 'commander';
import { errorCode, errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import { serverCommandSchema, startServerWithDashboard } from './serve.js';
import { serverTable } from './options/server.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';
import { onStopSignals } from './signals.js';
import { listeningBanner } from './server-banner.js';

export function registerServer(program: Command): void {
  addOptions(
    program.command('server').description('run the central TLS server: serve test files, collect, store and log results'),
    serverTable,
  ).action(async (opts: Record<string, unknown>) => {
    const config = serverCommandSchema.parse(resolveOptions(serverTable, { flags: opts }));
    const logger = createLogger({ level: config.logLevel, file: config.logFile });
    // Signals are handled from the start: the 'listening' line is logged inside the start-up, and a
    // SIGTERM right after it (a service manager, a test) must still shut down cleanly, exit 0.
    const started: { server?: Awaited<ReturnType<typeof startServerWithDashboard>> } = {};
    let signalled: NodeJS.Signals | undefined;
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal, deadlineMs: config.shutdownDeadlineMs }, 'shutting down');
      void started.server!.close().then(
        () => logger.flush(() => process.exit(0)),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          logger.flush(() => process.exit(1));
        },
      );
    };
    onStopSignals(
      logger,
      (signal) => {
        if (started.server === undefined) signalled = signal;
        else shutdown(signal);
      },
      'second signal: exiting now',
    );
    const server = await startServerWithDashboard(config, {
      logger,
      // The one place a generated dashboard token appears: the operator's terminal. Under a service
      // manager stderr is a log (journald), so there only the file that keeps it is named.
      announceToken: (url, token, tokenFile) =>
        process.stderr.write(
          process.stderr.isTTY || tokenFile === undefined
            ? `netprobe: dashboard: open ${url}?token=${token}\n`
            : `netprobe: dashboard: ${url} (token in ${tokenFile})\n`,
        ),
    });
    if (process.stderr.isTTY) {
      process.stderr.write(
        listeningBanner({
          host: server.host,
          port: server.port,
          workers: server.workers,
          store: server.store.location,
          files: server.files,
          dashboardUrl: server.web?.url,
          tokenFile: server.web?.tokenFile,
        }),
      );
    }
    const onHangup = () => {
      logger.info({ denyList: config.denyList ?? null, crl: config.crl ?? null }, 'SIGHUP: reloading revocations');
      server
        .reloadRevocations()
        .catch((err: unknown) =>
          logger.error({ code: errorCode(err), err: errorMessage(err) }, 'revocations not reloaded: the previous lists stay in force'),
        );
    };
    process.on('SIGHUP', onHangup);
    started.server = server;
    if (signalled !== undefined) shutdown(signalled);
  });
}
