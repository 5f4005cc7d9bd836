/**
 * What `netprobe server` prints on a terminal once it listens: where, how many processes, where the
 * results go, where the dashboard is. Plain words for a person; the JSON `listening` log line is the
 * record for machines.
 */
export interface BannerFacts {
  host: string;
  port: number;
  workers: number;
  store: string;
  files: readonly string[];
  dashboardUrl: string | undefined;
  /** Where a generated dashboard token is kept (never the token itself). */
  tokenFile?: string | undefined;
}

export function listeningBanner(f: BannerFacts): string {
  const hostPort = f.host.includes(':') ? `[${f.host}]:${f.port}` : `${f.host}:${f.port}`;
  const lines = [
    `netprobe server listening on ${hostPort} (mutual TLS), ${f.workers} ${f.workers === 1 ? 'process' : 'processes'}`,
    `  results stored in ${f.store}`,
    `  test files: ${f.files.length > 0 ? f.files.join(', ') : 'none'}`,
    f.dashboardUrl === undefined
      ? '  dashboard off (--http host:port to serve it, /metrics and /healthz)'
      : `  dashboard ${f.dashboardUrl}${f.tokenFile === undefined ? '' : ` (token in ${f.tokenFile})`}`,
  ];
  return `${lines.join('\n')}\n`;
}
