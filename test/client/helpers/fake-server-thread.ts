/**
 * A FakeServer on a worker thread of its own, for tests that block the main thread (its answers
 * must not wait for the block). The worker inherits the test runner's TypeScript loader.
 */
import { once } from 'node:events';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Endpoint } from '../../../src/client/endpoint.js';
import type { TlsMaterial } from '../../../src/tls/options.js';
import { FakeServer } from './fake-server.js';

export interface ThreadServer {
  endpoint: Endpoint;
  close(): Promise<void>;
}

export async function fakeServerThread(tls: TlsMaterial): Promise<ThreadServer> {
  const worker = new Worker(new URL(import.meta.url), { workerData: tls });
  const [port] = (await once(worker, 'message')) as [number];
  return {
    endpoint: { host: '127.0.0.1', port },
    close: async () => {
      await worker.terminate();
    },
  };
}

if (!isMainThread && parentPort !== null) {
  const tls = workerData as { ca: Uint8Array; cert: Uint8Array; key: Uint8Array };
  const server = await FakeServer.start({
    tls: { ca: Buffer.from(tls.ca), cert: Buffer.from(tls.cert), key: Buffer.from(tls.key) },
    files: [],
  });
  parentPort.postMessage(server.port);
}
