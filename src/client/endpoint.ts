import net from 'node:net';
import { parseHostPort } from '../units.js';

/** A server to measure against and report to. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The port `netprobe server` listens on by default. */
export const DEFAULT_SERVER_PORT = 7443;

/** `host:port`, with IPv6 literals in brackets (`[::1]:7443`). */
export function formatEndpoint(endpoint: Endpoint): string {
  return net.isIPv6(endpoint.host) ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/** `host:port`, `[v6]:port` or a bare host (port 7443). */
export function parseEndpoint(text: string): Endpoint {
  return parseHostPort(text.trim(), DEFAULT_SERVER_PORT);
}
