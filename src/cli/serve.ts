/**
 * `netprobe server`'s start: the server, and its dashboard when `http` is set. The server does not
 * know the dashboard: it hands it a read-only view (server/view.ts) before it serves TLS and closes
 * it after the last commit. In a multi-process server the dashboard runs in the primary; workers
 * never get its settings or token.
 */
import type { z } from 'zod';
import { silentLogger } from '../log.js';
import { type ServerConfig, serverConfigSchema } from '../server/config.js';
import { type RunningServer, type ServerDeps, startServer } from '../server/server.js';
import { WEB_SETTING_KEYS, type WebConfig, webSettingsSchema } from '../web/config.js';
import type { WebEndpoint } from '../web/index.js';

export interface DashboardDeps {
  /** Dashboard front-end folder (default: the built dist/web/assets). */
  webAssetsDir?: string;
  /**
   * Shows a generated dashboard token to the operator (the CLI: on a terminal only), with the file
   * that keeps it (next to a SQLite store). It never goes into the log; else it is in `web.token`.
   */
  announceToken?: (url: string, token: string, tokenFile: string | undefined) => void;
}

export interface ServerWithDashboard extends RunningServer {
  /** The dashboard and /metrics endpoint, when `http` is configured. */
  readonly web: WebEndpoint | undefined;
}

/** `netprobe server`'s settings: the server's (server/config.ts) and its dashboard's (web/config.ts). */
export const serverCommandSchema = serverConfigSchema.extend(webSettingsSchema.shape);
export type ServerCommandConfig = z.infer<typeof serverCommandSchema>;
export type ServerCommandInput = z.input<typeof serverCommandSchema>;

/** The dashboard's settings among `netprobe server`'s, with the server's oldest TLS version. */
export function dashboardConfig(config: ServerCommandConfig & { http: string | number }): WebConfig {
  const { http, httpTls, httpToken, httpTimeZone, tlsMin, metricsMaxClients } = config;
  return { http, httpTls, httpToken, httpTimeZone, tlsMin, metricsMaxClients };
}

/** The server's own settings among `netprobe server`'s: what startServer takes (never the dashboard's token). */
export function serverPart(config: ServerCommandConfig): ServerConfig {
  const server: Record<string, unknown> = { ...config };
  for (const key of WEB_SETTING_KEYS) delete server[key];
  return server as ServerConfig;
}

/** Starts the server (startServer) and, when `http` is set, its dashboard as the server's observer. */
export async function startServerWithDashboard(
  input: ServerCommandInput,
  deps: ServerDeps & DashboardDeps = {},
): Promise<ServerWithDashboard> {
  const config = serverCommandSchema.parse(input);
  const { webAssetsDir, announceToken, ...serverDeps } = deps;
  const { http } = config;
  let web: WebEndpoint | undefined;
  const server = await startServer(serverPart(config), {
    ...serverDeps,
    observe:
      http === undefined
        ? deps.observe
        : async (observed) => {
            // Imported only with a dashboard: a server without `http` does not carry it (~5 MiB of RSS).
            const { startWeb } = await import('../web/index.js');
            web = await startWeb(observed, dashboardConfig({ ...config, http }), {
              logger: deps.logger ?? silentLogger,
              assetsDir: webAssetsDir,
              announceToken,
            });
            return web;
          },
  });
  return {
    host: server.host,
    port: server.port,
    context: server.context,
    store: server.store,
    workers: server.workers,
    files: server.files,
    web,
    get workerPids() {
      return server.workerPids;
    },
    reloadRevocations: () => server.reloadRevocations(),
    close: (deadlineMs) => server.close(deadlineMs),
  };
}
