import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { Asset } from './assets.js';
import type { Authenticator } from './auth.js';
import type { LiveFeed } from './live.js';
import type { EventStream } from './sse.js';

export interface RouteDeps {
  auth: Authenticator;
  token: string;
  assets: Map<string, Asset> | undefined;
  registry: Registry;
  live: LiveFeed;
  stream: EventStream;
  shuttingDown: () => boolean;
  /** Why the server cannot take work now (/readyz), or undefined when it can. */
  ready: () => Promise<string | undefined>;
  log: Logger;
}

const COMMON_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};
/** The page loads only its own script and style; echarts' tooltips need inline style attributes. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const LOGIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>netprobe · sign in</title><style>
body{font:15px/1.5 system-ui,sans-serif;background:#0f141a;color:#d8dee6;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#18202a;padding:24px 28px;border-radius:10px;max-width:360px;width:calc(100% - 48px)}
h1{font-size:18px;margin:0 0 8px}p{color:#8b97a6;margin:0 0 16px}input,button{font:inherit;width:100%;box-sizing:border-box;
padding:8px 10px;border-radius:6px;border:1px solid #2c3846;background:#0f141a;color:inherit}button{margin-top:10px;background:#2f81f7;border:0;color:#fff}
</style></head><body><form method="get" action="/"><h1>netprobe dashboard</h1>
<p>Enter the access token (printed once on the server's stderr at start, or set with --http-token).</p>
<input name="token" type="password" autocomplete="off" aria-label="token" autofocus><button>Open</button></form></body></html>`;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': type, ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, data: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(data));
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, headers: Record<string, string>): void {
  const base = {
    ...COMMON_HEADERS,
    'content-type': asset.type,
    etag: asset.etag,
    'cache-control': 'private, no-cache',
    vary: 'accept-encoding',
    ...headers,
  };
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304, base);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  res.writeHead(200, gzip ? { ...base, 'content-encoding': 'gzip' } : base);
  res.end(gzip ? asset.gzip : asset.body);
}

/** The request handler: /healthz and /readyz are open; everything else needs the token or a client certificate. */
export function createRoutes(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { auth, log } = deps;

  const unauthorized = (req: IncomingMessage, res: ServerResponse, path: string) => {
    log.info({ path, peer: req.socket.remoteAddress }, 'unauthorized request');
    const challenge = { 'www-authenticate': 'Bearer realm="netprobe"' };
    if (path === '/' && /text\/html/.test(String(req.headers.accept ?? ''))) {
      send(res, 401, 'text/html; charset=utf-8', LOGIN_PAGE, { ...challenge, 'content-security-policy': LOGIN_CSP });
    } else {
      const body = { error: 'unauthorized', message: 'send the bearer token (Authorization: Bearer …) or a client certificate' };
      send(res, 401, 'application/json; charset=utf-8', JSON.stringify(body), challenge);
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://netprobe.invalid');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz') {
      const down = deps.shuttingDown();
      sendJson(res, down ? 503 : 200, { status: down ? 'shutting down' : 'ok' });
      return;
    }
    if (path === '/readyz') {
      const reason = await deps.ready();
      sendJson(res, reason === undefined ? 200 : 503, reason === undefined ? { status: 'ready' } : { status: 'not ready', reason });
      return;
    }
    const queryToken = url.searchParams.get('token');
    if (path === '/' && queryToken !== null) {
      // The token arrives once in the URL; a cookie keeps it and the redirect takes it out of the address bar.
      if (!auth.matches(queryToken)) return unauthorized(req, res, path);
      res.writeHead(303, { ...COMMON_HEADERS, location: '/', 'set-cookie': auth.cookie(deps.token) });
      res.end();
      return;
    }
    const method = auth.check(req);
    if (method === null) return unauthorized(req, res, path);
    log.debug({ path, auth: method }, 'request');

    if (path === '/metrics') {
      send(res, 200, deps.registry.contentType, await deps.registry.metrics());
    } else if (path === '/api/snapshot') {
      // ?direction=download|upload: the window and rules of one direction (default download).
      const direction = url.searchParams.get('direction') ?? 'download';
      if (direction !== 'download' && direction !== 'upload') {
        sendJson(res, 400, { error: 'bad request', message: 'direction must be download or upload' });
      } else sendJson(res, 200, deps.live.snapshot(direction));
    } else if (path === '/api/events') {
      if (req.method === 'HEAD') send(res, 200, 'text/event-stream; charset=utf-8', '');
      else if (!deps.stream.open(req, res)) sendJson(res, 503, { error: 'busy', message: 'too many dashboards are connected' });
    } else if (path === '/' || path.startsWith('/assets/')) {
      const asset = deps.assets?.get(path);
      if (asset) sendAsset(req, res, asset, path === '/' ? { 'content-security-policy': PAGE_CSP } : {});
      else if (!deps.assets) send(res, 500, 'text/plain; charset=utf-8', 'the dashboard front end is not built: run `npm run build`\n');
      else sendJson(res, 404, { error: 'not found' });
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  };

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      log.error({ err: errorMessage(err), path: req.url?.split('?')[0] }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  };
}
