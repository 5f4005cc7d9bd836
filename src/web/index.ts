/**
 * The server's HTTP(S) endpoint: live dashboard (`/`), Prometheus metrics (`/metrics`) and a health
 * check for load balancers (`/healthz`). An observer of the server (server/view.ts): started by
 * whoever starts the server (cli/serve.ts) when `http` is configured, never by the server itself.
 */
import http, { type Server } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { checkTimeZone } from '../analysis/timezone.js';
import { ErrorCodes, NetprobeError, errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { ObservedServer } from '../server/view.js';
import { serverTlsOptions } from '../tls/options.js';
import { loadAssets } from './assets.js';
import { Authenticator, generateToken } from './auth.js';
import type { WebConfig } from './config.js';
import { loadOrCreateToken, tokenFileFor } from './token-file.js';
import { resolveWebAddress, webUrl } from './endpoint.js';
import { LiveFeed } from './live.js';
import { createMetrics } from './metrics.js';
import { createRoutes } from './routes.js';
import { EventStream } from './sse.js';
import { DashboardState, loadWindows } from './state.js';

/** The chart and the analyser's rules (congestion.ts) look at this much history. */
export const DEFAULT_WINDOW_MS = 6 * 3_600_000;
const MAX_VIEWERS = 64;
/** A request must arrive in full within this long (SSE responses are not limited). */
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
const SILENT_SOCKET_TIMEOUT_MS = 30_000;
/** Browsers, scrapers and live streams at once; more are refused (it was unbounded: 300 silent ones stayed). */
const MAX_DASHBOARD_CONNECTIONS = 256;

export interface WebDeps {
  logger: Logger;
  /** Front-end bundle folder (tests build their own). */
  assetsDir?: string;
  windowMs?: number;
  /** Shows a generated token (and the file keeping it, if any) to the operator; it is never logged. */
  announceToken?: ((url: string, token: string, tokenFile: string | undefined) => void) | undefined;
}

export interface WebEndpoint {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** The bearer token (configured or generated). */
  readonly token: string;
  /** The file keeping a generated token (next to a SQLite store). */
  readonly tokenFile: string | undefined;
  close(): Promise<void>;
}

/**
 * Starts the endpoint for the `observed` server: the dashboard reads the window's results from its store at start,
 * then follows its events; /readyz asks whether a write could commit.
 */
export async function startWeb(observed: ObservedServer, config: WebConfig, deps: WebDeps): Promise<WebEndpoint> {
  const { view: ctx, store } = observed;
  const log = deps.logger.child({ component: 'web' });
  const tls = config.httpTls;
  const address = resolveWebAddress(config.http, tls);
  const generated = config.httpToken === undefined;
  // A generated token lives in a file next to a SQLite store, so a restart keeps it.
  const tokenFile = generated ? tokenFileFor(store.location) : undefined;
  const token = config.httpToken ?? (tokenFile === undefined ? generateToken() : (await loadOrCreateToken(tokenFile)).token);

  const state = new DashboardState(deps.windowMs ?? DEFAULT_WINDOW_MS, ctx.now, { timeZone: checkTimeZone(config.httpTimeZone) });
  const uploadState = new DashboardState(deps.windowMs ?? DEFAULT_WINDOW_MS, ctx.now, {
    timeZone: checkTimeZone(config.httpTimeZone),
    direction: 'upload',
  });
  await loadWindows(store, [state, uploadState]);
  const stream = new EventStream(MAX_VIEWERS);
  const metrics = createMetrics(ctx, config.metricsMaxClients, state, () => stream.size);
  const live = new LiveFeed(ctx, state, stream, metrics, uploadState);
  const assets = await loadAssets(deps.assetsDir);
  if (!assets) log.warn({}, 'dashboard front end not built (run `npm run build`): / answers 500, /metrics and /healthz work');

  const server: Server = tls
    ? https.createServer({
        ...serverTlsOptions(observed.material, { minVersion: config.tlsMin }),
        // A client certificate is one way in, the token the other: ask for a certificate, do not require it.
        requestCert: true,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      })
    : http.createServer();
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  // A connection that sends nothing (no request ever started, so no request timeout applies) or goes
  // quiet is destroyed; the live stream writes a heartbeat every 15 s, so it stays.
  server.setTimeout(SILENT_SOCKET_TIMEOUT_MS);
  server.maxConnections = MAX_DASHBOARD_CONNECTIONS;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const stop = () => {
    live.close();
    metrics.close();
    stream.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address.port, address.host, () => resolve());
    });
  } catch (err) {
    stop();
    throw new NetprobeError(
      ErrorCodes.config,
      `cannot listen on ${address.host}:${address.port} for the dashboard: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : address.port;
  const url = webUrl(address, port, tls);
  server.on(
    'request',
    createRoutes({
      auth: new Authenticator(token, `netprobe_token_${port}`, tls, (cert) => observed.revokedBy(cert)),
      token,
      assets,
      registry: metrics.registry,
      live,
      stream,
      log,
      shuttingDown: () => ctx.shuttingDown,
      ready: async () => {
        if (ctx.shuttingDown) return 'shutting down';
        if (!ctx.listening) return 'the TLS port is not listening yet';
        try {
          await store.checkWritable();
          return undefined;
        } catch (err) {
          return `the store is not writable: ${errorMessage(err)}`;
        }
      },
    }),
  );
  // No log line carries the token: log files travel (collectors, tickets). A generated one is
  // handed to announceToken, which the CLI prints once on stderr.
  log.info(
    { url, tls, loopback: address.loopback, tokenGenerated: generated, tokenFile: tokenFile ?? null },
    generated
      ? `dashboard: ${url} (generated token ${tokenFile === undefined ? 'for this run' : `kept in ${tokenFile}`}; set httpToken to choose one)`
      : `dashboard: ${url} (token from the configuration)`,
  );
  if (generated) deps.announceToken?.(url, token, tokenFile);

  let closed: Promise<void> | undefined;
  return {
    url,
    host: address.host,
    port,
    tls,
    token,
    tokenFile,
    close() {
      closed ??= new Promise<void>((resolve) => {
        stop();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
