import { CommanderError } from 'commander';
import { NetprobeError, UsageError, errorMessage } from '../errors.js';
import { describePathError, isPathError } from './fs-errors.js';
import { VERSION } from './version.js';

/**
 * How the CLI ends on an error: 0 ok (commander's --help/--version), 1 runtime failure, 2 usage
 * error (as commander and most CLIs do), and the text for stderr (commander printed its own).
 */
export function exitFor(err: unknown): { code: 0 | 1 | 2; message: string } {
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, message: '' };
  if (err instanceof UsageError) return { code: 2, message: `netprobe: ${err.message}\n` };
  if (err instanceof NetprobeError) return { code: 1, message: `netprobe: ${err.message} (${err.code})\n` };
  // A path the user named that cannot be used is not a bug: one line, no trace.
  if (isPathError(err)) return { code: 1, message: `netprobe: ${describePathError(err)}\n` };
  const stack = err instanceof Error && err.stack ? `${err.stack}\n` : '';
  return {
    code: 1,
    message:
      `netprobe: unexpected error (a bug in netprobe ${VERSION}: please report it on the project's issue tracker with this output and the command line): ` +
      `${errorMessage(err)}\n${stack}`,
  };
}
