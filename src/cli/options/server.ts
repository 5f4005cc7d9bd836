/** `netprobe server`: every setting, once (flags, config-file keys and NETPROBE_* names come from here). */
import { MAX_TLS_SESSION_LIFETIME_MS } from '../../tls/options.js';
import { choice, duration, fromParser, integer, list, size, string } from './kinds.js';
import { configOption, logFileOption, logLevelOption, switchOption, tlsMinOption } from './common.js';
import type { CommandTable } from './table.js';

const workers = fromParser((raw) => {
  const text = String(raw).trim();
  if (text === 'auto') return 'auto';
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 64)) throw new Error(`'${text}' is not a whole number from 1 to 64, or 'auto' (one per core)`);
  return n;
});

const token = fromParser((raw) => {
  const text = String(raw);
  if (text.length < 16 || text.length > 256) throw new Error('a bearer token of 16 to 256 characters is needed');
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(text)) throw new Error('a bearer token may use letters, digits and - . _ ~ + /');
  return text;
});

export const serverTable: CommandTable = {
  command: 'server',
  configurable: true,
  options: [
    configOption,
    { key: 'host', arg: '<host>', type: string(), default: '0.0.0.0', help: 'listen address' },
    {
      key: 'port',
      short: 'p',
      arg: '<port>',
      type: integer({ min: 0, max: 65535 }),
      default: '7443',
      help: 'listen port (0 = any free port, logged)',
    },
    { key: 'cert', arg: '<file>', type: string(), default: 'certs/server.crt', help: 'server certificate' },
    { key: 'key', arg: '<file>', type: string(), default: 'certs/server.key', help: 'server private key' },
    { key: 'ca', arg: '<file>', type: string(), default: 'certs/ca.crt', help: 'CA certificate that signs client certificates' },
    tlsMinOption,
    {
      key: 'denyList',
      arg: '<file>',
      type: string(),
      help: 'revoked client certificates: SHA-256 fingerprints, one per line (reloaded on SIGHUP)',
    },
    {
      key: 'crl',
      arg: '<file>',
      type: string(),
      help: 'revocation list signed by the CA, from `netprobe certs revoke` (reloaded on SIGHUP)',
    },
    {
      key: 'store',
      arg: '<location>',
      type: string(),
      default: './netprobe.db',
      help: 'SQLite file or postgres://user@host/db[?schema=NAME]',
    },
    {
      key: 'storeBusyTimeout',
      arg: '<duration>',
      type: duration({ max: 60_000 }),
      default: '5s',
      to: 'storeBusyTimeoutMs',
      was: 'storeBusyTimeoutMs',
      help: 'wait this long for a locked database before answering NETPROBE_STORAGE',
    },
    { key: 'files', arg: '<dir>', type: string(), help: 'also serve the regular files in this directory' },
    {
      key: 'builtinFiles',
      arg: '<sizes>',
      type: list(string(), 0),
      default: '1MiB,10MiB,100MiB',
      help: 'built-in random files, comma-separated (empty for none)',
    },
    { key: 'serverId', arg: '<id>', type: string(128), defaultText: 'hostname:port', help: 'name reported to clients' },
    { key: 'workers', arg: '<n>', type: workers, default: 'auto', help: 'processes serving TLS: a number, or auto for one per core' },
    { key: 'maxConnections', arg: '<n>', type: integer({ min: 1 }), default: '10000', help: 'open connections in total' },
    {
      key: 'maxConnectionsPerClient',
      arg: '<n>',
      type: integer({ min: 1 }),
      default: '16',
      help: 'open connections per client certificate',
    },
    {
      key: 'maxConcurrentTransfers',
      arg: '<n>',
      type: integer({ min: 1 }),
      default: '256',
      help: 'transfers at once before answering BUSY',
    },
    {
      key: 'busyRetryAfter',
      arg: '<duration>',
      type: duration(),
      default: '2s',
      to: 'busyRetryAfterMs',
      was: 'busyRetryAfterMs',
      help: 'retry-after sent with BUSY (jittered ×0.5–1.5)',
    },
    {
      key: 'maxConcurrentUploads',
      arg: '<n>',
      type: integer({ min: 1 }),
      defaultText: 'half of --max-concurrent-transfers',
      help: 'uploads at once (within the transfer limit; the rest stay for downloads)',
    },
    {
      key: 'maxUploadSize',
      arg: '<size>',
      type: size({ min: 1 }),
      default: '16GiB',
      to: 'maxUploadBytes',
      help: 'largest upload; beyond it ERROR and the connection is closed',
    },
    {
      key: 'maxUploadDuration',
      arg: '<duration>',
      type: duration({ min: 100, max: 600_000 }),
      default: '60s',
      to: 'maxUploadDurationMs',
      help: 'longest upload a client may ask for (5 s of grace to finish)',
    },
    {
      key: 'maxFrameSize',
      arg: '<size>',
      type: size({ min: 1024, max: 64 * 1024 * 1024 }),
      default: '4MiB',
      to: 'maxFrameBytes',
      was: 'maxFrameBytes',
      help: 'largest control frame accepted',
    },
    {
      key: 'clientResultsPerMinute',
      arg: '<n>',
      type: integer({ min: 1 }),
      default: '3000',
      help: 'results one client certificate may report per minute, server-wide (also its burst); beyond it BUSY',
    },
    {
      key: 'clientReportSizePerMinute',
      arg: '<size>',
      type: size({ min: 1024 }),
      default: '16MiB',
      to: 'clientReportBytesPerMinute',
      help: 'REPORT bytes one client certificate may send per minute (also its burst); beyond it BUSY, unparsed',
    },
    { key: 'maxResultsPerReport', arg: '<n>', type: integer({ min: 1, max: 1000 }), default: '1000', help: 'results in one REPORT' },
    {
      key: 'handshakeTimeout',
      arg: '<duration>',
      type: duration({ min: 100 }),
      default: '10s',
      to: 'handshakeTimeoutMs',
      was: 'handshakeTimeoutMs',
      help: 'TLS handshake deadline (absolute)',
    },
    {
      key: 'tlsSessionLifetime',
      arg: '<duration>',
      type: duration({ min: 1_000, max: MAX_TLS_SESSION_LIFETIME_MS }),
      default: '24h',
      to: 'tlsSessionLifetimeMs',
      help: "how long a client's TLS session can be resumed (certificates are still checked for revocation and expiry)",
    },
    {
      key: 'idleTimeout',
      arg: '<duration>',
      type: duration({ min: 100 }),
      default: '60s',
      to: 'idleTimeoutMs',
      was: 'idleTimeoutMs',
      help: 'close connections idle this long',
    },
    {
      key: 'frameTimeout',
      arg: '<duration>',
      type: duration({ min: 100 }),
      default: '60s',
      to: 'frameTimeoutMs',
      was: 'frameTimeoutMs',
      help: 'a frame must arrive in full within this long once it started',
    },
    {
      key: 'shutdownDeadline',
      arg: '<duration>',
      type: duration(),
      default: '30s',
      to: 'shutdownDeadlineMs',
      was: 'shutdownDeadlineMs',
      help: 'on SIGTERM, wait this long for transfers and commits in flight',
    },
    {
      key: 'statsInterval',
      arg: '<duration>',
      type: duration(),
      default: '60s',
      to: 'statsIntervalMs',
      was: 'statsIntervalMs',
      help: 'aggregate log line period, 0 = off',
    },
    {
      key: 'synchronous',
      arg: '<mode>',
      type: choice(['full', 'normal']),
      default: 'full',
      help: 'SQLite durability: full survives power loss, normal a crash of the process',
    },
    {
      key: 'http',
      arg: '<address>',
      type: string(),
      defaultText: 'off',
      help: 'serve the dashboard, /metrics and /healthz on host:port (a bare port binds 127.0.0.1)',
    },
    switchOption('httpTls', "serve them over HTTPS with the server's certificate (required off loopback)"),
    {
      key: 'httpTimeZone',
      arg: '<zone>',
      type: string(),
      default: 'UTC',
      help: "IANA time zone of the dashboard's hours of day (busiest, most congested hour), as analyse --tz",
    },
    {
      key: 'metricsMaxClients',
      arg: '<n>',
      type: integer({ min: 0 }),
      default: '1000',
      help: 'clients with their own /metrics series (last throughput, RTTs, failures by class); beyond it, server-wide metrics only',
    },
    {
      key: 'httpToken',
      arg: '<token>',
      type: token,
      defaultText: 'generated, shown once at start',
      help: 'bearer token for the dashboard and /metrics (prefer NETPROBE_HTTP_TOKEN: flags show in ps)',
    },
    logLevelOption,
    logFileOption,
  ],
};
