/** docs/cli.md, generated from the option tables (`npm run docs:cli`; a test fails when it is stale). */
import { analyseTable, reportTable } from './analysis.js';
import { certsClientTable, certsCrlTable, certsInitTable, certsRevokeTable } from './certs.js';
import { clientTable } from './client.js';
import { serverTable } from './server.js';
import { demoTable, planTable, simulateTable } from './sim.js';
import { storeMigrateTable, storePruneTable } from './store.js';
import { type CommandTable, defaultShown, envOf, flagOf } from './table.js';

export const TABLES: readonly CommandTable[] = [
  serverTable,
  clientTable,
  analyseTable,
  reportTable,
  certsInitTable,
  certsClientTable,
  certsRevokeTable,
  certsCrlTable,
  simulateTable,
  demoTable,
  planTable,
  storeMigrateTable,
  storePruneTable,
];

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => `\`${text}\``;

function renderTable(table: CommandTable): string {
  const head = table.configurable
    ? ['| flag | config key | environment | default | meaning |', '| --- | --- | --- | --- | --- |']
    : ['| flag | default | meaning |', '| --- | --- | --- |'];
  const rows = table.options.map((spec) => {
    const flag = code(`${spec.short ? `-${spec.short}, ` : ''}${flagOf(spec)}${spec.arg ? ` ${spec.arg}` : ''}`);
    const shown = defaultShown(spec);
    const fallback = spec.required ? 'required' : '–';
    const def = shown === undefined ? fallback : spec.default === undefined ? cell(shown) : code(shown);
    const help = cell(`${spec.help}${spec.repeatable ? ' (repeatable)' : ''}${spec.was ? ` (was ${code(spec.was)})` : ''}`);
    if (!table.configurable) return `| ${flag} | ${def} | ${help} |`;
    const file = spec.flagOnly ? '–' : code(spec.key);
    const env = spec.flagOnly ? '–' : code(envOf(spec.key));
    return `| ${flag} | ${file} | ${env} | ${def} | ${help} |`;
  });
  const argument = table.argument ? [`\`${table.argument.name}\`: ${cell(table.argument.help)}`, ''] : [];
  return [`## \`netprobe ${table.command}\``, '', ...argument, ...head, ...rows].join('\n');
}

export function renderCliDocs(tables: readonly CommandTable[] = TABLES): string {
  return `${[
    '# Command-line options',
    '',
    '<!-- Generated from src/cli/options/*.ts by `npm run docs:cli`; do not edit by hand. -->',
    '',
    'Each setting has one name: the flag `--kebab-case`, the config-file key `camelCase` (JSON or YAML,',
    'given with `--config`) and the environment variable `NETPROBE_SNAKE_CASE`. Priority, lowest first:',
    'default, config file, environment, flag. Durations need a unit (`250ms`, `10s`, `5m`, `1h`, `90d`;',
    'only `0` may go without), sizes too (`512KiB`, `4MiB`, `10MB`, `1GB`): a bare number is refused',
    'with the fix. Percentages take `%` (`10%`) or a fraction (`0.1`). A key the command does not know is',
    'refused. The old keys named under "was" (`intervalMs: 60000`, `NETPROBE_INTERVAL_MS`) are still read',
    'for this version, with a warning naming the new key; numbers under them keep their old unit.',
    '',
    ...tables.map(renderTable).flatMap((t) => [t, '']),
  ]
    .join('\n')
    .trimEnd()}\n`;
}
