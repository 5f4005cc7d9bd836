import { type ChildProcess, spawn } from 'node:child_process';

export interface PtyProcess {
  child: ChildProcess;
  /** Everything the process wrote to its terminal so far (stdout and stderr together, CRLF as LF). */
  output(): string;
  /** Resolves with the output once it matches, rejects on timeout or when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a command on a pseudo-terminal with util-linux `script` (stdin, stdout and stderr are the
 * terminal, so `isTTY` is true), as a person at a terminal would. `cwd` and `env` as for spawn.
 */
export function runInPty(argv: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): PtyProcess {
  const child = spawn('script', ['--quiet', '--return', '--flush', '--command', argv.map(quote).join(' '), '/dev/null'], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env, TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString('utf8').replace(/\r\n/g, '\n');
    for (const w of watchers) w();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code);
      for (const w of watchers) w();
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`timed out waiting for ${pattern}; terminal:\n${text}`)), timeoutMs);
      const check = () => {
        const m = pattern.exec(text);
        if (m) finish(undefined, m);
        else if (child.exitCode !== null) finish(new Error(`exited (${child.exitCode}) before ${pattern}; terminal:\n${text}`));
      };
      const finish = (err?: Error, m?: RegExpExecArray) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (err) reject(err);
        else resolve(m!);
      };
      watchers.add(check);
      check();
    });
  return { child, output: () => text, waitFor, exited };
}
