/**
 * The layering of docs/ARCHITECTURE.md ("may import" column), checked by `npm run lint`
 * (dependency-cruiser). Each folder of src/ may import only the folders listed for it, plus the
 * shared top-level modules (src/errors.ts, src/log.ts, src/units.ts) and its own files; an arrow the
 * table narrows ("types only", "only `file.ts`") is narrowed here too. Change the table and this file
 * in the same commit: test/lint/architecture.test.ts fails when they disagree, and
 * test/lint/layering.test.ts shows a wrong arrow failing.
 */
const SHARED = '^src/(errors|log|units|tcp-info)\\.ts$';

/** folder → folders it may import (besides itself and SHARED). */
const MAY_IMPORT = {
  protocol: [],
  tls: ['protocol'],
  store: ['protocol'],
  analysis: ['store'],
  client: ['protocol', 'tls', 'analysis'],
  server: ['protocol', 'tls', 'store', 'client'],
  report: ['analysis', 'store'],
  web: ['protocol', 'store', 'analysis', 'server', 'tls'],
  sim: ['protocol', 'tls', 'store', 'analysis', 'client', 'server'],
};

/** folder → folders whose code it may not run, only name types of (the table's "types only"). */
const TYPES_ONLY = {
  web: ['server'],
  report: ['store'],
};

/** folder → folder → the only files of it that it may import (the table's "only `file.ts`"). */
const ONLY_FILES = {
  tls: { protocol: ['frame.ts'] },
  store: { protocol: ['result.ts'] },
  server: { client: ['meter.ts'] },
  client: { analysis: ['responsiveness.ts'] },
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const typesOnlyRules = Object.entries(TYPES_ONLY).flatMap(([from, targets]) =>
  targets.map((to) => ({
    name: `${from}-uses-${to}-types-only`,
    comment: `src/${from}/ may name the types of src/${to}/, never run its code (docs/ARCHITECTURE.md)`,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: `^src/${to}/`, dependencyTypesNot: ['type-only'] },
  })),
);

const onlyFilesRules = Object.entries(ONLY_FILES).flatMap(([from, targets]) =>
  Object.entries(targets).map(([to, files]) => ({
    name: `${from}-uses-${to}-${files.map((f) => f.replace(/\.ts$/, '')).join('-')}-only`,
    comment: `src/${from}/ may import only ${files.join(', ')} of src/${to}/ (docs/ARCHITECTURE.md)`,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: `^src/${to}/`, pathNot: `^src/${to}/(${files.map(escape).join('|')})$` },
  })),
);

const layerRules = Object.entries(MAY_IMPORT).map(([from, allowed]) => ({
  name: `layer-${from}`,
  comment: `src/${from}/ may import only ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (docs/ARCHITECTURE.md)`,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: {
    path: '^src/',
    pathNot: [SHARED, `^src/(${[from, ...allowed].join('|')})/`],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...typesOnlyRules,
    ...onlyFilesRules,
    {
      name: 'server-not-web',
      comment:
        'the server publishes a read-only view (server/view.ts); the dashboard is started by whoever starts the server (cli/serve.ts), never imported by it, not even for types',
      severity: 'error',
      from: { path: '^src/server/' },
      to: { path: '^src/web/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle in src/ (types included): a module and what it imports form a tree',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-cli-from-library',
      comment: 'the CLI is the top: nothing imports src/cli/',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
