/** `netprobe store migrate` and `netprobe store prune`: every setting, once. */
import { duration, integer, string } from './kinds.js';
import { switchOption } from './common.js';
import type { CommandTable } from './table.js';

export const storeMigrateTable: CommandTable = {
  command: 'store migrate',
  configurable: false,
  options: [
    { key: 'from', arg: '<location>', type: string(), required: true, help: 'source store: sqlite:PATH, a file path, or postgres://…' },
    {
      key: 'to',
      arg: '<location>',
      type: string(),
      required: true,
      help: 'destination store: postgres://…[?schema=NAME], sqlite:PATH or a file path',
    },
    { key: 'batch', arg: '<n>', type: integer({ min: 1, max: 100_000 }), default: '5000', help: 'rows per destination transaction' },
  ],
};

export const storePruneTable: CommandTable = {
  command: 'store prune',
  configurable: false,
  options: [
    {
      key: 'olderThan',
      arg: '<duration>',
      type: duration({ min: 1 }),
      required: true,
      to: 'olderThanMs',
      help: 'delete what started longer ago than this, e.g. 90d',
    },
    { key: 'store', arg: '<location>', type: string(), default: './netprobe.db', help: 'SQLite file or postgres://… URL' },
    switchOption('dryRun', 'only print what would be deleted (count, oldest, newest)'),
    switchOption('yes', 'delete without asking (needed when stdin is not a terminal)'),
  ],
};
