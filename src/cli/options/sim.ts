/** `netprobe simulate` and `netprobe demo`: every setting, once. */
import { duration, integer, string } from './kinds.js';
import { logLevelOption } from './common.js';
import type { CommandTable } from './table.js';

export const simulateTable: CommandTable = {
  command: 'simulate',
  configurable: false,
  options: [
    { key: 'clients', arg: '<n>', type: integer({ min: 1, max: 5000 }), default: '50', help: 'virtual clients' },
    { key: 'duration', arg: '<duration>', type: duration({ min: 1000 }), default: '3m', to: 'durationMs', help: 'real run time' },
    { key: 'day', arg: '<duration>', type: duration({ min: 1000 }), default: '60s', to: 'dayMs', help: 'real time of one simulated day' },
    { key: 'profile', arg: '<name|file>', type: string(), default: 'evening-peak', help: 'flat, evening-peak, business-hours, double-peak, outage, or a JSON/YAML file' },
    { key: 'seed', arg: '<n>', type: integer(), default: '42', help: 'seed for schedules and access-link caps' },
    { key: 'out', arg: '<dir>', type: string(), default: 'sim', help: 'truth.json, certificates, client outboxes, sim.log' },
    { key: 'store', arg: '<location>', type: string(), defaultText: 'OUT/netprobe.db', help: 'SQLite file or postgres://… URL for the results' },
    { key: 'file', arg: '<name>', type: string(128), default: '1MiB', help: 'test file the clients download' },
    { key: 'sharedMbps', arg: '<n>', type: integer({ min: 1 }), defaultText: '4 per client, at least 50', help: 'shared link capacity in Mbit/s at full availability' },
    { ...logLevelOption, help: 'log level of OUT/sim.log' },
  ],
};

export const demoTable: CommandTable = {
  command: 'demo',
  configurable: false,
  options: [
    { key: 'dir', arg: '<dir>', type: string(), default: 'netprobe-demo', help: 'work folder (replaced on each run)' },
    { key: 'clients', arg: '<n>', type: integer({ min: 1, max: 2000 }), default: '50', help: 'virtual clients' },
    { key: 'duration', arg: '<duration>', type: duration({ min: 1000 }), default: '60s', to: 'durationMs', help: 'real run time of the simulation' },
    { key: 'day', arg: '<duration>', type: duration({ min: 1000 }), default: '20s', to: 'dayMs', help: 'real time of one simulated day' },
    { key: 'seed', arg: '<n>', type: integer(), default: '42', help: 'seed of the simulation' },
  ],
};
