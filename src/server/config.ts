import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { DEFAULT_TLS_SESSION_LIFETIME_MS, MAX_TLS_SESSION_LIFETIME_MS } from '../tls/options.js';

const WORKERS_ERROR = { error: "workers is a whole number from 1 to 64, or 'auto' (one per core)" };

/**
 * The server's settings, with defaults (flags > environment > config file > defaults). The
 * dashboard's (`http`, `httpTls`, `httpToken`, `httpTimeZone`, `metricsMaxClients`) are not here: they
 * are web/config.ts's, and `netprobe server` takes both (cli/serve.ts). Strict: `startServer` refuses a
 * setting it does not have, a dashboard's included, rather than starting without it.
 */
export const serverConfigSchema = z.strictObject({
  host: z.string().min(1).default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(7443),
  cert: z.string().min(1).default('certs/server.crt'),
  key: z.string().min(1).default('certs/server.key'),
  ca: z.string().min(1).default('certs/ca.crt'),
  tlsMin: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.3'),
  /** Revoked client certificates: SHA-256 fingerprints, one per line ('#' comments). Reloaded on SIGHUP. */
  denyList: z.string().min(1).optional(),
  /** PEM CRL signed by the CA (`netprobe certs revoke`). Reloaded on SIGHUP. */
  crl: z.string().min(1).optional(),
  store: z.string().min(1).default('./netprobe.db'),
  /** How long a write waits for a locked SQLite database before the REPORT gets NETPROBE_STORAGE. */
  storeBusyTimeoutMs: z.number().int().min(0).max(60_000).default(5_000),
  /** Extra test files: every regular file in this directory with a plain name. */
  files: z.string().min(1).optional(),
  /** Built-in random test files, named by size. */
  builtinFiles: z.array(z.string()).default(['1MiB', '10MiB', '100MiB']),
  serverId: z.string().min(1).max(128).optional(),
  /**
   * Processes serving TLS. 1: everything in one process. Above 1 (or 'auto': one per core): a
   * primary owns the store, the dashboard and /metrics; the workers accept connections and send
   * their results to it to be committed (see docs/ARCHITECTURE.md).
   */
  workers: z
    .union([z.literal('auto'), z.number().int(WORKERS_ERROR).min(1, WORKERS_ERROR).max(64, WORKERS_ERROR)], WORKERS_ERROR)
    .default(1),
  maxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(4 * 1024 * 1024),
  maxResultsPerReport: z.number().int().min(1).max(1000).default(1000),
  handshakeTimeoutMs: z.number().int().min(100).default(10_000),
  /** How long a client's TLS session (ticket) can be resumed after it was issued (tls/options.ts). */
  tlsSessionLifetimeMs: z.number().int().min(1_000).max(MAX_TLS_SESSION_LIFETIME_MS).default(DEFAULT_TLS_SESSION_LIFETIME_MS),
  idleTimeoutMs: z.number().int().min(100).default(60_000),
  /** A frame whose first byte arrived must be complete within this long (one byte a second never is). */
  frameTimeoutMs: z.number().int().min(100).default(60_000),
  maxConnections: z.number().int().min(1).default(10_000),
  maxConnectionsPerClient: z.number().int().min(1).default(16),
  /** Above this many concurrent transfers new GET_FILEs get BUSY. */
  maxConcurrentTransfers: z.number().int().min(1).default(256),
  busyRetryAfterMs: z.number().int().min(0).default(2_000),
  /** Results one client certificate may report per minute (also its burst); beyond it REPORTs get BUSY. Server-wide across workers. */
  clientResultsPerMinute: z.number().int().min(1).default(3_000),
  /** REPORT bytes one client certificate may send per minute (the CPU of parsing them; also its burst); beyond it BUSY, unparsed. */
  clientReportBytesPerMinute: z
    .number()
    .int()
    .min(1024)
    .default(16 * 1024 * 1024),
  /**
   * Uploads running at once, within maxConcurrentTransfers (unset: half of it, at least 1): the
   * rest of the transfer slots stay for downloads, so a crowd of uploaders gets BUSY, not the
   * downloaders.
   */
  maxConcurrentUploads: z.number().int().min(1).optional(),
  /** Largest upload (bytes received); beyond it the server answers ERROR NETPROBE_LIMIT and closes. */
  maxUploadBytes: z
    .number()
    .int()
    .min(1)
    .default(16 * 1024 ** 3),
  /** Longest upload: a PUT may ask for at most this, and DATA_END must arrive within it plus a grace of 5 s. */
  maxUploadDurationMs: z.number().int().min(100).max(600_000).default(60_000),
  shutdownDeadlineMs: z.number().int().min(0).default(30_000),
  statsIntervalMs: z.number().int().min(0).default(60_000),
  synchronous: z.enum(['full', 'normal']).default('full'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  logFile: z.string().min(1).optional(),
});

export type ServerConfig = z.infer<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;

/** `workers` as a process count: 'auto' is one per core the machine offers. */
export function resolveWorkers(workers: ServerConfig['workers']): number {
  return workers === 'auto' ? Math.max(1, availableParallelism()) : workers;
}
