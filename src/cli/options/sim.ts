/** `netprobe simulate`, `netprobe demo` and `netprobe plan`: every setting, once. */
import { choice, duration, integer, size, string } from './kinds.js';
import { logLevelOption, switchOption } from './common.js';
import type { CommandTable } from './table.js';

export const simulateTable: CommandTable = {
  command: 'simulate',
  configurable: false,
  options: [
    {
      key: 'engine',
      arg: '<engine>',
      type: choice(['model', 'real']),
      default: 'model',
      help: 'model: the network computed in simulated time, every result sent over the real reporting path to a real server; real: real clients and transfers on a compressed clock',
    },
    {
      key: 'clients',
      arg: '<n>',
      type: integer({ min: 1, max: 100_000 }),
      default: '50',
      help: 'virtual clients (real engine: at most 5000)',
    },
    {
      key: 'duration',
      arg: '<duration>',
      type: duration({ min: 1000 }),
      default: '3m',
      to: 'durationMs',
      help: 'real run time of the real engine; with --day it sets the simulated span',
    },
    {
      key: 'day',
      arg: '<duration>',
      type: duration({ min: 1000 }),
      default: '60s',
      to: 'dayMs',
      help: 'real time of one simulated day (real engine); the span is duration / day days',
    },
    {
      key: 'span',
      arg: '<duration>',
      type: duration({ min: 3_600_000, max: 366 * 86_400_000 }),
      to: 'spanMs',
      defaultText: 'duration / day simulated days',
      help: 'simulated time the run covers (7d); the model engine runs it as fast as it can',
    },
    {
      key: 'every',
      arg: '<duration>',
      type: duration({ min: 60_000 }),
      default: '30m',
      to: 'everyMs',
      help: 'mean simulated time between two measurements of a client at peak activity',
    },
    {
      key: 'profile',
      arg: '<name|file>',
      type: string(),
      default: 'evening-peak',
      help: 'flat, evening-peak, business-hours, double-peak, outage, or a JSON/YAML file',
    },
    { key: 'seed', arg: '<n>', type: integer(), default: '42', help: 'seed for schedules and access-link caps' },
    { key: 'out', arg: '<dir>', type: string(), default: 'sim', help: 'truth.json, certificates, client outboxes, sim.log' },
    {
      key: 'store',
      arg: '<location>',
      type: string(),
      defaultText: 'OUT/netprobe.db',
      help: 'SQLite file or postgres://… URL for the results',
    },
    { key: 'file', arg: '<name>', type: string(128), default: '1MiB', help: 'test file the clients download' },
    {
      key: 'sharedMbps',
      arg: '<n>',
      type: integer({ min: 1 }),
      defaultText: 'model: 1000; real: 10 per client, at least 100',
      help: 'shared link capacity in Mbit/s at full availability',
    },
    switchOption(
      'kernelLink',
      'real engine: the shared link is a veth into a network namespace shaped by htb, its rate changed (tc class change) at each simulated hour, so real TCP flows share a kernel queue; needs root and iproute2',
    ),
    { ...logLevelOption, help: 'log level of OUT/sim.log' },
  ],
};

export const demoTable: CommandTable = {
  command: 'demo',
  configurable: false,
  options: [
    { key: 'dir', arg: '<dir>', type: string(), default: 'netprobe-demo', help: 'work folder (replaced on each run)' },
    { key: 'clients', arg: '<n>', type: integer({ min: 1, max: 100_000 }), default: '1000', help: 'virtual clients of the model run' },
    {
      key: 'span',
      arg: '<duration>',
      type: duration({ min: 3_600_000, max: 60 * 86_400_000 }),
      default: '7d',
      to: 'spanMs',
      help: 'simulated time the model run covers',
    },
    { key: 'realClients', arg: '<n>', type: integer({ min: 0, max: 200 }), default: '20', help: 'clients of the real run (0 skips it)' },
    {
      key: 'realDuration',
      arg: '<duration>',
      type: duration({ min: 1000, max: 600_000 }),
      default: '15s',
      to: 'realDurationMs',
      help: 'real run time of the real run',
    },
    { key: 'seed', arg: '<n>', type: integer(), default: '42', help: 'seed of the simulations' },
  ],
};

export const planTable: CommandTable = {
  command: 'plan',
  configurable: false,
  options: [
    { key: 'clients', arg: '<n>', type: integer({ min: 1, max: 100_000 }), default: '1000', help: 'clients measuring' },
    {
      key: 'file',
      arg: '<size>',
      type: size({ min: 1024, max: 64 * 1024 ** 3 }),
      default: '1MiB',
      to: 'sizeBytes',
      help: 'size of the file each measurement downloads',
    },
    {
      key: 'every',
      arg: '<duration>',
      type: duration({ min: 60_000 }),
      default: '1h',
      to: 'everyMs',
      help: 'mean time between two measurements of a client at full activity',
    },
    {
      key: 'linkMbps',
      arg: '<n>',
      type: integer({ min: 1 }),
      default: '1000',
      help: 'capacity of the link the measurements share, Mbit/s',
    },
    {
      key: 'profile',
      arg: '<name|file>',
      type: string(),
      default: 'evening-peak',
      help: 'whose activity says which share of the clients measure, hour by hour (its capacity is ignored)',
    },
    {
      key: 'span',
      arg: '<duration>',
      type: duration({ min: 86_400_000, max: 60 * 86_400_000 }),
      default: '7d',
      to: 'spanMs',
      help: 'simulated time the model runs (more days, steadier numbers)',
    },
    { key: 'seed', arg: '<n>', type: integer(), default: '42', help: 'seed for schedules and access-link caps' },
    switchOption('json', 'print the answer as JSON (every hour of day)'),
  ],
};
