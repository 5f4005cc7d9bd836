/**
 * The primary's own worker: a multi-process server's primary serves TLS too, in its own process,
 * beside the workers it forks (one process fewer for the same cores: each node process costs
 * ~65 MiB of binary and modules before its first connection). It is a worker like the others
 * (worker.ts `WorkerRuntime`: its own context, its share of the limits, its results committed by
 * the primary after the same messages), only the messages are function calls, not IPC. Its listener
 * binds the server's socket; the forked workers accept from that same socket.
 */
import type { Server } from 'node:net';
import type { Logger } from '../log.js';
import type { ServerConfig } from './config.js';
import type { ToPrimary, WorkerSetup } from './ipc.js';
import { WorkerRuntime } from './worker.js';
import type { WorkerLink } from './worker-handle.js';

export interface LocalWorker {
  link: WorkerLink;
  /** Starts serving: binds the server's socket (the link then reports `listening`, or `failed`). */
  start(): Promise<void>;
  /** The listening socket once it listens. */
  readonly socket: Server | undefined;
}

export function localWorker(setup: WorkerSetup, config: ServerConfig, log: Logger): LocalWorker {
  const messageListeners = new Set<(message: ToPrimary) => void>();
  const exitListeners = new Set<(code: number | null, signal: string | null) => void>();
  let connected = true;
  const runtime = new WorkerRuntime(
    setup,
    config,
    {
      connected: () => connected,
      send: (message) => {
        for (const listener of [...messageListeners]) listener(message);
      },
    },
    log,
  );
  void runtime.exited.then((code) => {
    connected = false;
    for (const listener of [...exitListeners]) listener(code, null);
  });
  const link: WorkerLink = {
    pid: process.pid,
    forked: false,
    isConnected: () => connected,
    send: (message) => runtime.receive(message),
    onMessage: (listener) => {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    onExit: (listener) => {
      exitListeners.add(listener);
      return () => exitListeners.delete(listener);
    },
    kill: () => runtime.abort(),
  };
  return {
    link,
    start: () => runtime.start(),
    get socket() {
      return runtime.socket;
    },
  };
}
