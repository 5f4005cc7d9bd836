import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { bootServer, serveInProcess } from './boot.js';
import { buildCatalogue } from './catalogue.js';
import { startCluster } from './cluster.js';
import { type ServerConfig, type ServerConfigInput, resolveWorkers, serverConfigSchema } from './config.js';
import type { RunningServer, ServerDeps } from './running.js';

export type { RevocationSummary } from './listener.js';
export type { RunningServer, ServerDeps } from './running.js';

/**
 * Starts a server: in this process, or (with `workers` above 1) as a primary that owns the store
 * (and its observer, `deps.observe`) plus that many worker processes serving TLS (see cluster.ts).
 * It starts no dashboard: a setting it does not have (`http` among them) is refused, never ignored;
 * cli/serve.ts `startServerWithDashboard` takes the dashboard's settings too.
 */
export async function startServer(input: ServerConfigInput, deps: ServerDeps = {}): Promise<RunningServer> {
  const parsed = serverConfigSchema.safeParse(input);
  if (!parsed.success) {
    const unknown = parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' ? i.keys : []));
    const hint =
      unknown.length > 0
        ? `\nstartServer takes the server's settings only (server/config.ts) and starts no dashboard; for ${unknown.join(', ')} use startServerWithDashboard (cli/serve.ts)`
        : '';
    throw new ConfigError(`invalid server settings:\n${z.prettifyError(parsed.error)}${hint}`, { cause: parsed.error });
  }
  const config: ServerConfig = parsed.data;
  const workers = resolveWorkers(config.workers);
  if (workers > 1) {
    const injected = (['store', 'catalogue', 'shaperFor', 'now', 'delegation'] as const).filter((k) => deps[k] !== undefined);
    if (injected.length > 0)
      throw new ConfigError(`workers: ${workers} cannot be combined with an in-process ${injected.join(', ')}; use workers: 1`);
    return startCluster(config, workers, deps);
  }
  return bootServer(config, deps, {
    catalogue: async () => deps.catalogue ?? (await buildCatalogue(config.builtinFiles, config.files)),
    serve: serveInProcess,
  });
}
