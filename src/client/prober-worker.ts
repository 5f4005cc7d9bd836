/**
 * The worker thread of `prober-thread.ts`, one per process: opens each loaded-RTT connection (TLS,
 * HELLO) and sends its foreign probes (`LoadedPinger`) on this thread's own event loop, between the
 * main thread's 'start' and 'stop'. Messages: `prober-thread.ts` `ToProber` in, `FromProber` out.
 */
import { parentPort } from 'node:worker_threads';
import { errorCode, errorMessage } from '../errors.js';
import { TlsSessions } from './connect.js';
import { LoadedPinger, foreignProbe } from './loaded-rtt.js';
import type { FromProber, ProberJob, ToProber } from './prober-thread.js';
import { type Session, openSession } from './session.js';

const port = parentPort!;
const post = (message: FromProber) => port.postMessage(message);

interface Probing {
  job: ProberJob;
  session: Session;
  pinger?: LoadedPinger | undefined;
}
const open = new Map<number, Probing>();

async function connect(id: number, job: ProberJob): Promise<void> {
  try {
    const sessions = new TlsSessions();
    if (job.ticket !== undefined) sessions.set(job.sessionKey, Buffer.from(job.ticket));
    const { session } = await openSession({
      endpoint: job.endpoint,
      tls: { ca: Buffer.from(job.tls.ca), cert: Buffer.from(job.tls.cert), key: Buffer.from(job.tls.key) },
      minVersion: job.minVersion,
      timeouts: job.timeouts,
      requestTimeoutMs: job.requestTimeoutMs,
      sessions,
    });
    open.set(id, { job, session });
    post({ type: 'ready', id });
  } catch (err) {
    post({ type: 'failed', id, code: errorCode(err), message: errorMessage(err) });
  }
}

port.on('message', (message: ToProber) => {
  const probing = open.get(message.id);
  switch (message.type) {
    case 'open':
      void connect(message.id, message.job);
      return;
    case 'start':
      if (probing === undefined) return;
      // Every stream's start says so: the first one counts.
      probing.pinger ??= new LoadedPinger(foreignProbe(probing.session), probing.job.intervalMs, probing.job.requestTimeoutMs);
      probing.pinger.start();
      return;
    case 'stop': {
      const pinger = probing?.pinger;
      if (probing !== undefined) probing.pinger = undefined;
      void (pinger?.stop() ?? Promise.resolve([])).then((rttsMs) => post({ type: 'rtts', id: message.id, rttsMs }));
      return;
    }
    case 'close':
      open.delete(message.id);
      void probing?.pinger?.stop();
      probing?.session.close();
      return;
    default: {
      const never: never = message;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
