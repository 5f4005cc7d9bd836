/**
 * The one rule that says what a failed result is evidence of, from its stored error code alone
 * (so results stored before the rule existed are classed the same way):
 * - `network`: the path failed (refused, reset, timeouts, DNS, a handshake cut off, corrupt data);
 * - `server`: the server was there but would not or could not serve (BUSY, storage, shutting down);
 * - `setup`: the measurement could not work as configured (untrusted certificate, unknown file,
 *   identity refused, incompatible protocol version). A new setup says nothing about the network.
 * Codes not listed (including ones a future version adds) count as `network`, as all failures did.
 * Pure: no I/O.
 */
import { ErrorCodes } from '../errors.js';
import { compareText } from './options.js';
import type { ExcludedFailure, Finding } from './types.js';

export type ErrorClass = 'network' | 'server' | 'setup';

/** Why a setup or server failure happened, in words a user acts on. */
const NOT_NETWORK: Record<string, { errorClass: Exclude<ErrorClass, 'network'>; because: string }> = {
  [ErrorCodes.tlsUnauthorized]: {
    errorClass: 'setup',
    because: "TLS authentication failed: the server's certificate is not trusted by --ca, or the server refused this client's certificate",
  },
  [ErrorCodes.notFound]: { errorClass: 'setup', because: 'the server does not have the --file asked for' },
  [ErrorCodes.identity]: { errorClass: 'setup', because: "the server refused the client's identity (certificate name)" },
  [ErrorCodes.cert]: { errorClass: 'setup', because: "the client's certificate or key could not be used" },
  [ErrorCodes.protocolVersion]: { errorClass: 'setup', because: 'client and server speak incompatible protocol versions' },
  [ErrorCodes.config]: { errorClass: 'setup', because: 'the configuration was refused' },
  [ErrorCodes.usage]: { errorClass: 'setup', because: 'an option was refused' },
  [ErrorCodes.busy]: { errorClass: 'server', because: 'the server was busy (BUSY) after every retry' },
  [ErrorCodes.storage]: { errorClass: 'server', because: "the server's store failed" },
  [ErrorCodes.shuttingDown]: { errorClass: 'server', because: 'the server was shutting down' },
  [ErrorCodes.limit]: { errorClass: 'server', because: "the server's connection limit was reached" },
};

/** The class of a result's error code (null: the result succeeded). */
export function errorClass(code: string | null): ErrorClass | null {
  if (code === null) return null;
  return NOT_NETWORK[code]?.errorClass ?? 'network';
}

/** Every code that is not a network failure: the analysis leaves these out of its figures. */
export const NON_NETWORK_CODES: readonly string[] = Object.keys(NOT_NETWORK).sort();

/** Why results failed with `code`, for the finding ("… failed because …"). */
export function failureReason(code: string): string {
  return NOT_NETWORK[code]?.because ?? `${code}`;
}

/** A failed result the analysis leaves out: what `excludedFailures` is made of. */
export interface FailedRow {
  client: string;
  code: string;
  startedAtMs: number;
}

/** Groups left-out failures per client and code, in client then code order. */
export function groupExcluded(rows: Iterable<FailedRow>): ExcludedFailure[] {
  const groups = new Map<string, { client: string; code: string; count: number; firstMs: number; lastMs: number }>();
  for (const r of rows) {
    const key = `${r.client}\u0000${r.code}`;
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.firstMs = Math.min(g.firstMs, r.startedAtMs);
      g.lastMs = Math.max(g.lastMs, r.startedAtMs);
    } else groups.set(key, { client: r.client, code: r.code, count: 1, firstMs: r.startedAtMs, lastMs: r.startedAtMs });
  }
  return [...groups.values()]
    .sort((a, b) => compareText(a.client, b.client) || compareText(a.code, b.code))
    .map((g) => ({
      client: g.client,
      errorClass: errorClass(g.code) === 'server' ? 'server' : 'setup',
      code: g.code,
      count: g.count,
      first: new Date(g.firstMs).toISOString(),
      last: new Date(g.lastMs).toISOString(),
    }));
}

/** One finding per group: "3 runs failed because …" (kind setup-failures or server-failures). */
export function excludedFindings(groups: readonly ExcludedFailure[]): Finding[] {
  return groups.map((g) => ({
    kind: g.errorClass === 'setup' ? 'setup-failures' : 'server-failures',
    client: g.client,
    at: g.last,
    message: `${g.count} run${g.count === 1 ? '' : 's'} failed because ${failureReason(g.code)} (${g.code}; not counted as network failures)`,
  }));
}
