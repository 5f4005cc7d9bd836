/** Options several commands share, declared once. */
import { boolean, choice, string } from './kinds.js';
import type { OptionSpec } from './table.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configOption: OptionSpec = {
  key: 'config',
  short: 'c',
  arg: '<file>',
  type: string(),
  flagOnly: true,
  help: 'JSON or YAML config file; its keys are the option names in camelCase (docs/cli.md)',
};

export const tlsMinOption: OptionSpec = {
  key: 'tlsMin',
  arg: '<version>',
  type: choice(['TLSv1.2', 'TLSv1.3'], { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' }),
  default: '1.3',
  help: 'lowest TLS version: 1.3 or 1.2',
};

export const logLevelOption: OptionSpec = {
  key: 'logLevel',
  arg: '<level>',
  type: choice(LOG_LEVELS),
  default: 'info',
  help: `log level: ${LOG_LEVELS.join(', ')}`,
};

export const logFileOption: OptionSpec = { key: 'logFile', arg: '<file>', type: string(), help: 'also append JSON log lines to this file' };

export const switchOption = (key: string, help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  key,
  type: boolean,
  help,
  ...extra,
});
