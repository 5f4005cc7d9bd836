import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { uncoveredNames } from '../tls/check.js';

/** The names clients may use to reach the server: --host, and --server-id when it looks like a host name. */
export function reachableNames(config: { host: string; serverId?: string | undefined }): string[] {
  const names = [config.host];
  const id = config.serverId?.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  if (id !== undefined && (isIP(id) !== 0 || id === 'localhost' || /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(id))) names.push(id);
  return [...new Set(names)];
}

/** Start-up warning: a name the server certificate does not cover makes clients refuse the server. */
export function warnUncoveredNames(
  certPem: Buffer,
  config: { host: string; serverId?: string | undefined; cert: string },
  log: Logger,
): void {
  const missing = uncoveredNames(certPem, reachableNames(config));
  if (missing.length === 0) return;
  log.warn(
    { names: missing, cert: config.cert },
    `the server certificate does not cover ${missing.join(', ')}: clients that reach the server by ${missing.length === 1 ? 'that name' : 'those names'} will refuse it (netprobe certs init --host NAME)`,
  );
}
