/**
 * Worker thread entry of the model engine's server (model-server.ts): opens the store, starts the
 * real server with the simulator's report delegation, answers `annotate` and `close`.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { errorCode, errorMessage } from '../errors.js';
import { createLogger } from '../log.js';
import type { LoadAnnotation } from '../server/load.js';
import { startServer } from '../server/server.js';
import { openStore } from '../store/open.js';
import { type ModelServerJob, type ModelServerReply, type ModelServerRequest, annotationKey } from './model-server.js';

const job = workerData as ModelServerJob;
const port = parentPort!;
const post = (m: ModelServerReply): void => port.postMessage(m);
const now = new Float64Array(job.clock);
const annotations = new Map<string, LoadAnnotation>();
const logger = createLogger({
  stdout: false,
  level: 'info',
  stream: new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) post({ type: 'log', line });
      done();
    },
  }),
});

try {
  const store = await openStore(job.store, { synchronous: 'normal', cacheMiB: 64 });
  const server = await startServer(
    {
      host: '127.0.0.1',
      port: 0,
      ca: join(job.certDir, 'ca.crt'),
      cert: join(job.certDir, 'server.crt'),
      key: join(job.certDir, 'server.key'),
      store: job.store,
      builtinFiles: [job.file],
      statsIntervalMs: 0,
      serverId: 'netprobe-sim',
      // One certificate carries the whole fleet's results: its fair-share budget is the fleet's.
      clientResultsPerMinute: Number.MAX_SAFE_INTEGER,
      clientReportBytesPerMinute: Number.MAX_SAFE_INTEGER,
    },
    {
      logger,
      store,
      now: () => now[0]!,
      delegation: {
        reporter: job.reporter,
        clientPrefix: job.clientPrefix,
        annotate: (client, startedAtMs) => {
          const k = annotationKey(client, startedAtMs);
          const a = annotations.get(k);
          annotations.delete(k);
          return a;
        },
      },
    },
  );
  port.on('message', (m: ModelServerRequest) => {
    switch (m.type) {
      case 'annotate':
        for (const [k, a] of m.entries) annotations.set(k, a);
        post({ type: 'annotated' });
        return;
      case 'close':
        void (async () => {
          await server.close(5_000);
          await store.close();
          post({ type: 'closed' });
        })().catch((err: unknown) => post({ type: 'error', message: errorMessage(err), code: errorCode(err) }));
        return;
      default: {
        const never: never = m;
        throw new Error(`unknown request ${JSON.stringify(never)}`);
      }
    }
  });
  post({ type: 'listening', port: server.port });
} catch (err) {
  post({ type: 'error', message: errorMessage(err), code: errorCode(err) });
}
