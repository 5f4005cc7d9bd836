/**
 * Everything `netprobe client` can be told, with defaults. Flags > environment > config file >
 * defaults (layered by src/cli/config.ts). Durations are ms numbers or strings with a unit ('60s').
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { parseDurationMs, parseFraction } from '../units.js';
import { MAX_STREAMS } from '../protocol/result.js';
import type { TlsMaterial } from '../tls/options.js';
import { DEFAULT_BATCH_SIZE } from './reporter.js';
import { DEFAULT_OUTBOX_CAPACITY, DEFAULT_OUTBOX_PATH } from './outbox.js';
import { DEFAULT_PROBE_TIMEOUTS } from './probe.js';
import type { ClientOptions } from './client.js';
import { DEFAULT_FULL_HANDSHAKE_EVERY } from './connect.js';
import { parseEndpoint } from './endpoint.js';
import type { ScheduleSpec } from './schedule.js';
import { DEFAULT_LOADED_PING_INTERVAL_MS } from './loaded-rtt.js';

const ms = (what: string) =>
  z.union([
    z.number().int().min(0),
    z.string().transform((text, ctx) => {
      try {
        return parseDurationMs(text, what);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  ]);
const fraction = z.union([
  z.number().min(0).max(1),
  z.string().transform((text, ctx) => {
    try {
      return parseFraction(text, 'jitter');
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
]);
const list = z.union(
  [
    z.string().transform((s) =>
      s
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    ),
    z.array(z.string().min(1)),
  ],
  {
    error: 'at least one server is required (--server host:port, NETPROBE_SERVER or "server" in the config file)',
  },
);

export const clientConfigSchema = z.strictObject({
  /** Servers in preference order (host:port); measured against and reported to, the first that answers. */
  server: list.pipe(z.array(z.string()).min(1, 'at least one server (--server host:port)')),
  ca: z.string().min(1).default('certs/ca.crt'),
  cert: z.string({ error: 'the client certificate is required (--cert clients/NAME.crt)' }).min(1),
  key: z.string({ error: 'the client private key is required (--key clients/NAME.key)' }).min(1),
  tlsMin: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.3'),
  file: z.string().min(1).max(128).default('10MiB'),
  /** Duration mode: stream for this long instead of downloading the file once. */
  durationMs: ms('duration').pipe(z.number().int().min(1).max(600_000)).optional(),
  /** File mode: check the SHA-256 of every download ('none': TLS's own integrity only). */
  verify: z.enum(['sha256', 'none']).default('sha256'),
  /** download (server → client), upload (client → server, measured by the server), or both: one result each. */
  direction: z.enum(['download', 'upload', 'both']).default('download'),
  /** Parallel TLS connections for one measurement (aggregate over their common interval). */
  streams: z.number().int().min(1).max(MAX_STREAMS).default(1),
  schedule: z.enum(['interval', 'poisson', 'cron']).default('interval'),
  intervalMs: ms('interval').pipe(z.number().int().min(1)).default(60_000),
  jitter: fraction.default(0.1),
  meanMs: ms('mean').pipe(z.number().int().min(1)).default(300_000),
  cron: z.string().min(1).optional(),
  timezone: z.string().min(1).optional(),
  count: z.number().int().min(1).optional(),
  once: z.boolean().default(false),
  json: z.boolean().default(false),
  outbox: z.string().min(1).default(DEFAULT_OUTBOX_PATH),
  outboxMax: z.number().int().min(1).default(DEFAULT_OUTBOX_CAPACITY),
  batchSize: z.number().int().min(1).max(1000).default(DEFAULT_BATCH_SIZE),
  idlePings: z.number().int().min(1).max(100).default(5),
  /** PING period on the loaded-RTT connection; 0 = no second connection. */
  loadedPingIntervalMs: ms('loaded ping interval').default(DEFAULT_LOADED_PING_INTERVAL_MS),
  dnsTimeoutMs: ms('DNS timeout').default(DEFAULT_PROBE_TIMEOUTS.dnsMs),
  connectTimeoutMs: ms('connect timeout').default(DEFAULT_PROBE_TIMEOUTS.connectMs),
  tlsTimeoutMs: ms('TLS timeout').default(DEFAULT_PROBE_TIMEOUTS.tlsMs),
  requestTimeoutMs: ms('request timeout').default(DEFAULT_PROBE_TIMEOUTS.requestMs),
  responseTimeoutMs: ms('response timeout').default(DEFAULT_PROBE_TIMEOUTS.responseMs),
  idleTimeoutMs: ms('idle timeout').default(DEFAULT_PROBE_TIMEOUTS.idleMs),
  transferTimeoutMs: ms('transfer timeout').default(DEFAULT_PROBE_TIMEOUTS.totalMs),
  maxBusyRetries: z.number().int().min(0).max(100).default(5),
  fullHandshakeEvery: z.number().int().min(1).max(1_000_000).default(DEFAULT_FULL_HANDSHAKE_EVERY),
  /** First wait before retrying a server that did not answer (doubles, up to 10 min). */
  serverRetryMs: ms('server retry').default(30_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  logFile: z.string().min(1).optional(),
});

export type ClientConfig = z.infer<typeof clientConfigSchema>;
export type ClientConfigInput = z.input<typeof clientConfigSchema>;

export function scheduleFromConfig(config: ClientConfig): ScheduleSpec {
  if (config.cron !== undefined || config.schedule === 'cron') {
    if (config.cron === undefined) throw new UsageError('schedule cron needs a cron expression (--cron "*/5 * * * *")');
    return { kind: 'cron', expression: config.cron, timezone: config.timezone };
  }
  if (config.schedule === 'poisson') return { kind: 'poisson', meanMs: config.meanMs };
  return { kind: 'interval', intervalMs: config.intervalMs, jitter: config.jitter };
}

/** The validated configuration plus loaded TLS material → the client's options. */
export function clientOptionsFromConfig(config: ClientConfig, tls: TlsMaterial): ClientOptions {
  return {
    servers: config.server.map(parseEndpoint),
    tls,
    minVersion: config.tlsMin,
    file: config.file,
    durationMs: config.durationMs,
    direction: config.direction,
    schedule: scheduleFromConfig(config),
    count: config.count,
    outboxPath: config.outbox,
    outboxCapacity: config.outboxMax,
    batchSize: config.batchSize,
    serverRetryBaseMs: config.serverRetryMs,
    fullHandshakeEvery: config.fullHandshakeEvery,
    probe: {
      idlePings: config.idlePings,
      loadedPingIntervalMs: config.loadedPingIntervalMs,
      streams: config.streams,
      maxBusyRetries: config.maxBusyRetries,
      verify: config.verify,
      timeouts: {
        dnsMs: config.dnsTimeoutMs,
        connectMs: config.connectTimeoutMs,
        tlsMs: config.tlsTimeoutMs,
        requestMs: config.requestTimeoutMs,
        responseMs: config.responseTimeoutMs,
        idleMs: config.idleTimeoutMs,
        totalMs: config.transferTimeoutMs,
      },
    },
  };
}
