import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Also append JSON lines to this file. */
  file?: string | undefined;
  /** Write to stdout (default true). */
  stdout?: boolean;
  /** Extra destination (tests capture log lines with it). */
  stream?: DestinationStream;
}

const REDACT = ['key', 'token', 'password', '*.key', '*.token', '*.password', '*.httpToken', 'httpToken'];

/** Structured JSON-lines logger; components take a child (`logger.child({component: 'server'})`). */
export function createLogger(options: LogOptions = {}): Logger {
  const streams: pino.StreamEntry[] = [];
  if (options.stdout ?? true) streams.push({ stream: pino.destination({ dest: 1, sync: false }) });
  if (options.file) streams.push({ stream: pino.destination({ dest: options.file, mkdir: true, sync: false }) });
  if (options.stream) streams.push({ stream: options.stream });
  const level = options.level ?? 'info';
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: REDACT, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream(streams.map((s) => ({ ...s, level: level as pino.Level }))),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
