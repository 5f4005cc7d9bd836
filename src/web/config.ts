/**
 * The dashboard's settings (`netprobe server --http…`): its own type, filled by whoever starts it
 * (cli/serve.ts) from the command's options.
 */
import type { TlsMinVersion } from '../tls/options.js';

export interface WebConfig {
  /** 'host:port', or a bare port (then bound to 127.0.0.1). */
  http: string | number;
  /** Serve over HTTPS with the server's certificate (required on a non-loopback address). */
  httpTls: boolean;
  /** Bearer token; generated at start when unset. */
  httpToken?: string | undefined;
  /** IANA time zone of the hours of day (busiest and most congested hour), as `analyse --tz`. */
  httpTimeZone: string;
  /** Oldest TLS version the HTTPS endpoint accepts (the server's). */
  tlsMin: TlsMinVersion;
  /** Clients with their own /metrics series; the ones beyond count in the server-wide metrics only. */
  metricsMaxClients: number;
}
