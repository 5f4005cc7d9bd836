/**
 * A throwaway network namespace joined to the host by a veth pair: the one set-up and teardown used
 * by the real engine's kernel link (`kernel-link.ts`) and by the benches' shaped links
 * (bench/netns.ts).
 *
 *   host  <hostIf P.a.b/30> ── veth ── <nsIf P.a.b+1/30>  namespace `np<id>` (lo up)
 *
 * The /30 lies in the caller's /16 (`net`, e.g. `10.213`) and is derived from the pid and the
 * caller's index, so parallel runs do not collide; interface names keep the last 15 characters of
 * the id (the kernel's limit). `closeSync()` kills what still runs inside, deletes the pair and the
 * namespace; it is idempotent and also runs from a process 'exit' hook. Needs root and iproute2.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface VethNamespace {
  name: string;
  hostIf: string;
  nsIf: string;
  hostAddr: string;
  nsAddr: string;
  /** Runs a command inside the namespace. */
  inNs(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Kills the processes inside, removes the veth pair and the namespace. */
  closeSync(): void;
}

/** The /30's two addresses inside `net`.0.0/16 for this process and `index`. */
export function vethSubnet(net: string, index: number): { hostAddr: string; nsAddr: string } {
  const block = ((process.pid * 4 + index) % 16_384) * 4;
  const prefix = `${net}.${block >> 8}`;
  return { hostAddr: `${prefix}.${(block & 255) + 1}`, nsAddr: `${prefix}.${(block & 255) + 2}` };
}

/** Creates the namespace `np<id>` and the veth pair, addresses them, brings them up; on failure removes what it made and rethrows. */
export async function createVethNamespace(o: { id: string; net: string; index: number }): Promise<VethNamespace> {
  const name = `np${o.id}`;
  const hostIf = `${o.id}h`.slice(-15);
  const nsIf = `${o.id}n`.slice(-15);
  const { hostAddr, nsAddr } = vethSubnet(o.net, o.index);
  let closed = false;

  const closeSync = () => {
    if (closed) return;
    closed = true;
    process.off('exit', closeSync);
    // Whatever runs inside (nginx workers outlive a killed master).
    try {
      for (const pid of execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
    } catch {
      // No such namespace.
    }
    // Deleting one end removes both; the namespace goes once nothing runs inside it.
    for (const args of [
      ['link', 'del', hostIf],
      ['netns', 'del', name],
    ]) {
      try {
        execFileSync('ip', args, { stdio: 'ignore' });
      } catch {
        // Already gone (or never made).
      }
    }
  };
  process.on('exit', closeSync);

  const ip = (...args: string[]) => run('ip', args);
  const inNs = (...args: string[]) => run('ip', ['netns', 'exec', name, ...args]);
  try {
    await ip('netns', 'add', name);
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', name);
    await ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await inNs('ip', 'addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
    await inNs('ip', 'link', 'set', nsIf, 'up');
    await inNs('ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    closeSync();
    throw err;
  }
  return { name, hostIf, nsIf, hostAddr, nsAddr, inNs, closeSync };
}
