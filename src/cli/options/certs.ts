/** `netprobe certs init | client | revoke | crl`: every setting, once. */
import { DEFAULT_CRL_VALID_DAYS } from '../../tls/crl.js';
import { switchOption } from './common.js';
import { integer, list, string } from './kinds.js';
import type { CommandTable, OptionSpec } from './table.js';

const dir: OptionSpec = {
  key: 'dir',
  arg: '<dir>',
  type: string(),
  default: 'certs',
  help: 'certificate directory holding ca.crt and ca.key',
};
const force = switchOption('force', 'overwrite existing files');
const days: OptionSpec = {
  key: 'days',
  arg: '<n>',
  type: integer({ min: 1, max: 36_500 }),
  default: String(DEFAULT_CRL_VALID_DAYS),
  help: 'CRL validity in days; every client is refused once it lapses',
};
const name = { name: '<name>', help: 'client name (CN): letters, digits, ".", "_" and "-", at most 64 characters' };

export const certsInitTable: CommandTable = {
  command: 'certs init',
  configurable: false,
  options: [
    { ...dir, help: 'certificate directory' },
    {
      key: 'host',
      arg: '<name>',
      type: list(),
      repeatable: true,
      help: 'server DNS name or IP address for the certificate, repeatable or comma-separated; the first is the CN (localhost, 127.0.0.1 and ::1 are always included)',
    },
    force,
  ],
};

export const certsClientTable: CommandTable = { command: 'certs client', configurable: false, argument: name, options: [dir, force] };

export const certsRevokeTable: CommandTable = { command: 'certs revoke', configurable: false, argument: name, options: [dir, days] };

export const certsCrlTable: CommandTable = {
  command: 'certs crl',
  configurable: false,
  options: [dir, { ...days, help: 'CRL validity in days' }],
};
