/** Entry point of a server worker process (forked by cluster.ts; not run by hand). */
import { runWorker } from './worker.js';

await runWorker();
