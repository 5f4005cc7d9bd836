import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ConfigError } from '../errors.js';

export interface WebAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** Without a host the endpoint is bound to loopback. */
const DEFAULT_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/**
 * The `http` setting: 'host:port', '[v6]:port' or a bare port (then 127.0.0.1). A non-loopback
 * address needs TLS: the bearer token must not cross a network in clear.
 */
export function resolveWebAddress(setting: string | number, tls: boolean): WebAddress {
  const text = String(setting).trim();
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  if (!m) throw new ConfigError(`http: '${text}' is not host:port or a port (examples: 127.0.0.1:9090, [::1]:9090, 9090)`);
  const address = { host: m[1] || m[2] || DEFAULT_HOST, port: Number(m[3]) };
  if (address.port > 65535) throw new ConfigError(`http: port ${address.port} is out of range (0 picks a free port)`);
  const loopback = isLoopback(address.host);
  if (!loopback && !tls) {
    throw new ConfigError(
      `http: ${address.host} is not a loopback address; serving the dashboard there needs --http-tls (the token would cross the network in clear)`,
    );
  }
  return { ...address, loopback };
}

/** The URL to print: a wildcard bind address is shown as this machine's host name. */
export function webUrl(address: WebAddress, port: number, tls: boolean): string {
  const wildcard = address.host === '0.0.0.0' || address.host === '::';
  const host = wildcard ? hostname() : address.host;
  return `${tls ? 'https' : 'http'}://${isIP(host) === 6 ? `[${host}]` : host}:${port}/`;
}
