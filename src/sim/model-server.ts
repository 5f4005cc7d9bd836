/**
 * The model engine's server, in a worker thread: the real server (TLS, REPORT parsing and
 * validation, group commit into the real store) runs on the second core while the main thread runs
 * the model and the reporters. The model's load for each result (the delegation's annotations) is
 * handed over before the results are reported; the simulated clock is one shared Float64.
 */
import { Worker } from 'node:worker_threads';
import { NetprobeError, ErrorCodes } from '../errors.js';
import type { Logger } from '../log.js';
import type { LoadAnnotation } from '../server/load.js';

export interface ModelServerJob {
  certDir: string;
  store: string;
  file: string;
  reporter: string;
  clientPrefix: string;
  /** Float64Array(1): the simulated time in ms, written by the main thread. */
  clock: SharedArrayBuffer;
}

/** Worker → main. */
export type ModelServerReply =
  | { type: 'listening'; port: number }
  | { type: 'annotated' }
  | { type: 'closed' }
  | { type: 'log'; line: string }
  | { type: 'error'; message: string; code: string };

/** Main → worker. */
export type ModelServerRequest = { type: 'annotate'; entries: [string, LoadAnnotation][] } | { type: 'close' };

export const annotationKey = (client: string, startedAtMs: number): string => `${client}@${startedAtMs}`;

export interface ModelServer {
  port: number;
  /** Simulated ms, as the server's `now`. */
  setNow(ms: number): void;
  /** The model's load for results about to be reported (keys: annotationKey). */
  annotate(entries: [string, LoadAnnotation][]): Promise<void>;
  close(): Promise<void>;
}

function startWorker(job: ModelServerJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./model-server-worker.js', import.meta.url), { workerData: job });
  // Run from source (tests under tsx), a worker does not get tsx's loader from --import.
  const entry = JSON.stringify(new URL('./model-server-worker.ts', import.meta.url).href);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(`import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`, { eval: true, workerData: job });
}

export async function startModelServer(o: Omit<ModelServerJob, 'clock'> & { logger: Logger }): Promise<ModelServer> {
  const clock = new SharedArrayBuffer(8);
  const now = new Float64Array(clock);
  const { logger, ...job } = o;
  const worker = startWorker({ ...job, clock });
  // Replies come in request order (one request at a time per kind); waiting holds the next resolver.
  const waiting: { type: ModelServerReply['type']; resolve: () => void; reject: (err: Error) => void }[] = [];
  let failure: Error | undefined;
  let port = 0;
  const fail = (err: Error): void => {
    failure ??= err;
    for (const w of waiting.splice(0)) w.reject(err);
  };
  worker.on('message', (m: ModelServerReply) => {
    if (m.type === 'log') {
      try {
        const { level, msg, ...rest } = JSON.parse(m.line) as { level: number; msg?: string };
        const method = level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
        logger[method]({ ...rest, thread: 'server' }, msg ?? '');
      } catch {
        logger.info({ line: m.line }, 'server log');
      }
      return;
    }
    if (m.type === 'error') return fail(new NetprobeError(m.code, `simulator's server thread: ${m.message}`));
    if (m.type === 'listening') port = m.port;
    const i = waiting.findIndex((w) => w.type === m.type);
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve();
  });
  worker.on('error', (err) =>
    fail(new NetprobeError(ErrorCodes.internal, `simulator's server thread failed: ${err.message}`, { cause: err })),
  );
  worker.on('exit', (code) => fail(new NetprobeError(ErrorCodes.internal, `simulator's server thread exited (code ${code})`)));
  const request = (type: ModelServerReply['type'], message?: ModelServerRequest): Promise<void> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      waiting.push({ type, resolve, reject });
      if (message) worker.postMessage(message);
    });
  try {
    await request('listening');
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    port,
    setNow: (ms) => {
      now[0] = ms;
    },
    annotate: (entries) => (entries.length === 0 ? Promise.resolve() : request('annotated', { type: 'annotate', entries })),
    close: () =>
      (closed ??= request('closed', { type: 'close' }).finally(async () => {
        await worker.terminate();
      })),
  };
}
