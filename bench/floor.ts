/**
 * The floor under netprobe's server CPU in bench/concurrency.ts: a bare node:tls server with the
 * project's own TLS options (`serverTlsOptions`: TLS 1.3, the ECDSA P-256 server certificate,
 * mutual TLS against the project CA) that does for each client only what nginx does in the reference
 * round: the handshake, 1 MiB sent (from memory, in the slices netprobe's server writes:
 * `writeSliceBytes`, with backpressure), close. Its clients are the
 * reference round's: `seq N | xargs -P N curl` over HTTPS/1.1 (the server answers the request line
 * with a fixed header), each curl with its own client certificate. Two processes on two cores
 * (node:cluster, each accepting on the shared socket), as nginx's `worker_processes auto`.
 *
 * `clientCert: false` is the same server without asking for a client certificate (TLS as the nginx
 * reference does it), which separates the cost of mutual TLS from that of node's TLS stack.
 *
 *   node --import tsx bench/floor.ts --serve DIR WORKERS yes|no   (child process of the bench)
 */
import cluster from 'node:cluster';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { writeSliceBytes } from '../src/server/transfer.js';
import { serverTlsOptions } from '../src/tls/options.js';
import { processTree, shellQuote, spawnReady, timedShell, totalCpuSeconds } from './lib.js';

const SELF = fileURLToPath(import.meta.url);
const END_OF_HEAD = Buffer.from('\r\n\r\n');

export interface FloorRound {
  roundS: number;
  failures: number;
  serverCpuS: number;
  curlCpuS: number;
}

/** In a floor worker: answer each request with `sizeBytes` bytes, then close. */
async function serveWorker(dir: string, clientCert: boolean, sizeBytes: number): Promise<void> {
  const [ca, cert, key] = await Promise.all(['ca.crt', 'server.crt', 'server.key'].map((f) => readFile(join(dir, f))));
  const body = Buffer.alloc(sizeBytes, 0x5a);
  const head = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${sizeBytes}\r\nConnection: close\r\n\r\n`);
  const server = tls.createServer(serverTlsOptions({ ca: ca!, cert: cert!, key: key! }, { requestCert: clientCert }));
  let open = 0;
  /** The body in slices as netprobe's server writes a file (`writeSliceBytes`), each write waiting for 'drain' when the socket's buffer is full. */
  const send = (socket: TLSSocket, offset: number): void => {
    while (offset < sizeBytes) {
      const slice = body.subarray(offset, offset + writeSliceBytes(open));
      offset += slice.length;
      if (offset >= sizeBytes) {
        socket.end(slice);
        return;
      }
      if (!socket.write(slice)) {
        socket.once('drain', () => send(socket, offset));
        return;
      }
    }
  };
  server.on('secureConnection', (socket: TLSSocket) => {
    open++;
    socket.once('close', () => open--);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.indexOf(END_OF_HEAD) < 0) return;
      socket.off('data', onData);
      socket.write(head);
      send(socket, 0);
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  });
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
}

/** The floor server's primary: forks the workers and prints the port once all listen. */
function servePrimary(workers: number): void {
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
}

/** Each client's certificate and key as files, for curl's --cert and --key: DIR/clients/cI.crt, .key. */
export async function writeClientFiles(dir: string, clients: readonly { cert: string; key: string }[]): Promise<string> {
  const out = join(dir, 'clients');
  await mkdir(out, { recursive: true });
  await Promise.all(
    clients.flatMap((c, i) => [writeFile(join(out, `c${i}.crt`), c.cert), writeFile(join(out, `c${i}.key`), c.key, { mode: 0o600 })]),
  );
  return out;
}

/** A reference server kept running between rounds: each `round()` is one burst of clients; `stop()` ends it. */
export interface ReferenceServer<R> {
  round(): Promise<R>;
  stop(): Promise<void>;
}

/**
 * The floor server, started once: each `round()` is `clients` curl downloads of `file`
 * (`sizeBytes`), all at once (`clientCert`: mutual TLS, each curl presenting its own certificate from
 * `clientDir`). Kept running between rounds, as nginx is, so rounds of other servers can come between.
 */
export async function startFloor(options: {
  dir: string;
  clientDir: string;
  clients: number;
  workers: number;
  file: string;
  sizeBytes: number;
  clientCert: boolean;
}): Promise<ReferenceServer<FloorRound>> {
  const { dir, clients } = options;
  const server = await spawnReady(
    process.execPath,
    ['--import', 'tsx', SELF, '--serve', dir, String(options.workers), options.clientCert ? 'yes' : 'no', String(options.sizeBytes)],
    (l) => l.startsWith('{'),
  );
  const stop = async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  };
  try {
    const port = (JSON.parse(server.line) as { port: number }).port;
    const pids = await processTree(server.child.pid!);
    const serverCpu = () => totalCpuSeconds(pids);
    const certArgs = options.clientCert ? ['--cert', join(options.clientDir, 'c{}.crt'), '--key', join(options.clientDir, 'c{}.key')] : [];
    // As the nginx round's curl, plus the client certificate; no ALPN (the server offers only netprobe/1).
    const curl = [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '--cacert',
      join(dir, 'ca.crt'),
      '--tlsv1.3',
      '--no-alpn',
      ...certArgs,
      '-w',
      '%{http_code}\\n',
      `https://localhost:${port}/${options.file}`,
    ];
    const round = async (): Promise<FloorRound> => {
      const cpu0 = serverCpu();
      const t0 = performance.now();
      const { stdout, cpuSeconds: curlCpuS } = await timedShell(`seq 0 ${clients - 1} | xargs -P ${clients} -I{} ${shellQuote(curl)}`);
      const roundS = (performance.now() - t0) / 1000;
      const ok = stdout
        .trim()
        .split('\n')
        .filter((c) => c === '200').length;
      return { roundS, failures: clients - ok, serverCpuS: serverCpu() - cpu0, curlCpuS };
    };
    return { round, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (process.argv[2] === '--serve') {
  const [dir, workers, clientCert, sizeBytes] = process.argv.slice(3);
  if (cluster.isPrimary) servePrimary(Number(workers));
  else await serveWorker(dir!, clientCert === 'yes', Number(sizeBytes));
}
