import type { Logger } from '../log.js';

/**
 * SIGINT and SIGTERM for a long-running command: the first asks `stop` for a clean stop, a second
 * one exits at once with status 1 after logging `secondMessage`. Returns a function that removes
 * the handlers.
 */
export function onStopSignals(log: Logger, stop: (signal: NodeJS.Signals) => void, secondMessage: string): () => void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log.warn({ signal }, secondMessage);
      log.flush();
      process.exit(1);
    }
    stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
