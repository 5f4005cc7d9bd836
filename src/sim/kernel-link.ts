/**
 * The real engine's shared link in the kernel (`--kernel-link`): a veth pair into a throwaway
 * network namespace, shaped by htb on the host side, so real TCP flows compete in a real queue.
 *
 *   clients ──TCP──▶ nsAddr:fwdPort  [namespace: forwarder]  ──TCP──▶ hostAddr:serverPort (server)
 *   downloads: server ──▶ hostIf egress (htb class 1:10 + bfifo) ──▶ forwarder ──▶ client
 *
 * The server and the clients live in one process in the host namespace, and traffic between two
 * local addresses never leaves `lo`; the forwarder (a small Node process inside the namespace)
 * makes every connection cross the veth twice, and the host side's egress carries the downloads.
 * The htb class rate is changed with `tc class change` at each simulated hour. Needs Linux, root
 * and iproute2. The namespace and veth pair are `veth.ts`'s (names and addresses from the pid, so
 * parallel runs do not collide); close() and a process 'exit' hook remove the forwarder, the veth
 * pair and the namespace.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { NetprobeError } from '../errors.js';
import { type VethNamespace, createVethNamespace } from './veth.js';

const run = promisify(execFile);

export interface KernelLink {
  /** Host side of the veth: the server listens here. */
  hostAddr: string;
  /** Namespace side: the forwarder listens here. */
  nsAddr: string;
  hostIf: string;
  /** Starts the forwarder to `hostAddr:serverPort`; resolves with the port clients connect to. */
  forward(serverPort: number): Promise<number>;
  /** Sets the shared link's rate (the htb class rate and ceil). */
  setRateMbps(mbps: number): Promise<void>;
  /** Bytes the shaped class has sent so far (`tc -s class show`). */
  sentBytes(): Promise<number>;
  close(): Promise<void>;
}

/** Why a kernel link cannot be made here, or undefined when it can. */
export async function kernelLinkUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)';
  try {
    await run('ip', ['-V']);
    await run('tc', ['-V']);
  } catch {
    return 'needs iproute2 (ip, tc)';
  }
  return undefined;
}

// Copies bytes both ways between each accepted connection and the server; prints its port.
const FORWARDER = `
const net = require('node:net');
const [listenHost, targetHost, targetPort] = process.argv.slice(1);
const server = net.createServer((a) => {
  const b = net.connect(Number(targetPort), targetHost);
  a.pipe(b); b.pipe(a);
  a.on('error', () => b.destroy()); b.on('error', () => a.destroy());
  a.on('close', () => b.destroy()); b.on('close', () => a.destroy());
});
server.listen(0, listenHost, () => process.stdout.write(server.address().port + '\\n'));
`;

let made = 0;

/**
 * Creates the namespace and the veth pair and shapes the host side's egress with htb at `rateMbps`,
 * behind a byte FIFO holding `queueMs` at that rate (at least 4 × 64 KiB: htb does not split the
 * 64 KiB GSO packets of a veth).
 */
export async function openKernelLink(o: { rateMbps: number; queueMs: number }): Promise<KernelLink> {
  const index = made++;
  let link: VethNamespace | undefined;
  let forwarder: ChildProcess | undefined;
  let closed = false;

  const closeSync = () => {
    if (closed) return;
    closed = true;
    forwarder?.kill('SIGKILL');
    link?.closeSync();
  };

  const tc = (...args: string[]) => run('tc', args);
  const bytesPerMs = (mbps: number) => (mbps * 1e6) / 8 / 1000;
  // 2 ms at the rate, at least 16 KiB: a smaller bucket loses tokens when the qdisc's timer fires late.
  const burst = (mbps: number) => String(Math.max(16 * 1024, Math.round(2 * bytesPerMs(mbps))));
  const rateArgs = (mbps: number) => ['rate', `${mbps}mbit`, 'ceil', `${mbps}mbit`, 'burst', burst(mbps), 'cburst', burst(mbps)];
  try {
    // A /30 in 10.214.0.0/16 (bench/netns.ts uses 10.213/16).
    link = await createVethNamespace({ id: `sim${process.pid}${index > 0 ? `x${index}` : ''}`, net: '10.214', index });
    const { hostIf } = link;
    await tc('qdisc', 'add', 'dev', hostIf, 'root', 'handle', '1:', 'htb', 'default', '10');
    await tc('class', 'add', 'dev', hostIf, 'parent', '1:', 'classid', '1:10', 'htb', ...rateArgs(o.rateMbps));
    const limitBytes = Math.max(Math.round(bytesPerMs(o.rateMbps) * o.queueMs), 4 * 65_536);
    await tc('qdisc', 'add', 'dev', hostIf, 'parent', '1:10', 'handle', '10:', 'bfifo', 'limit', String(limitBytes));
  } catch (err) {
    closeSync();
    throw new NetprobeError(
      'NETPROBE_KERNEL_LINK',
      `--kernel-link: could not set up the namespace and veth: ${String((err as { stderr?: string }).stderr ?? err).trim()}`,
      { cause: err },
    );
  }

  const { name: ns, hostIf, hostAddr, nsAddr } = link;
  return {
    hostAddr,
    nsAddr,
    hostIf,
    async forward(serverPort) {
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', FORWARDER, nsAddr, hostAddr, String(serverPort)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      forwarder = child;
      const [chunk] = (await Promise.race([once(child.stdout, 'data'), once(child, 'exit').then(() => [undefined])])) as [
        Buffer | undefined,
      ];
      const port = Number(chunk?.toString().trim());
      if (!(port > 0)) throw new NetprobeError('NETPROBE_KERNEL_LINK', '--kernel-link: the forwarder inside the namespace did not start');
      return port;
    },
    async setRateMbps(mbps) {
      if (closed) return;
      await tc('class', 'change', 'dev', hostIf, 'parent', '1:', 'classid', '1:10', 'htb', ...rateArgs(Math.max(0.1, mbps)));
    },
    async sentBytes() {
      const { stdout } = await tc('-s', 'class', 'show', 'dev', hostIf, 'classid', '1:10');
      return Number(/Sent (\d+) bytes/.exec(stdout)?.[1] ?? 0);
    },
    async close() {
      if (forwarder && forwarder.exitCode === null && forwarder.signalCode === null) {
        const exited = once(forwarder, 'exit');
        forwarder.kill('SIGTERM');
        await exited;
      }
      closeSync();
    },
  };
}
