/**
 * The dashboard's settings (`netprobe server --http…`), declared here only: the server's schema
 * (server/config.ts) does not know them. Whoever starts the dashboard (cli/serve.ts) parses them with
 * `webSettingsSchema` and adds the server's `tlsMin`.
 */
import { z } from 'zod';
import type { TlsMinVersion } from '../tls/options.js';

export const webSettingsSchema = z.strictObject({
  /**
   * Dashboard, /metrics and /healthz: 'host:port', or a bare port (then bound to 127.0.0.1).
   * Off when unset. A number comes from NETPROBE_HTTP=9090.
   */
  http: z.union([z.string().min(1), z.number().int().min(0).max(65535)]).optional(),
  /** Clients with their own /metrics series; the ones beyond count in the server-wide metrics only. */
  metricsMaxClients: z.number().int().min(0).default(1000),
  /** IANA time zone of the dashboard's hours of day (busiest and most congested hour), as `analyse --tz`. */
  httpTimeZone: z.string().min(1).default('UTC'),
  /** Serve it over HTTPS with the server's certificate (required on a non-loopback address). */
  httpTls: z.boolean().default(false),
  /** Bearer token for the endpoint; generated at start (and shown once) when unset. */
  httpToken: z
    .string()
    .min(16, 'httpToken must be at least 16 characters')
    .max(256)
    .regex(/^[A-Za-z0-9._~+/-]+=*$/, 'httpToken may use letters, digits and - . _ ~ + / (a bearer token)')
    .optional(),
});

export type WebSettings = z.infer<typeof webSettingsSchema>;
export type WebSettingsInput = z.input<typeof webSettingsSchema>;

/** The dashboard's setting names, to take them out of a command's settings. */
export const WEB_SETTING_KEYS = Object.keys(webSettingsSchema.shape) as (keyof WebSettings)[];

/** What startWeb runs with: the settings, `http` set, and the server's oldest TLS version. */
export interface WebConfig extends Omit<WebSettings, 'http'> {
  /** 'host:port', or a bare port (then bound to 127.0.0.1). */
  http: string | number;
  /** Oldest TLS version the HTTPS endpoint accepts (the server's). */
  tlsMin: TlsMinVersion;
}
