/**
 * The analysis as a library (the report and the dashboard use this): `analyse(store, options)`
 * gives the AnalysisSummary, the `netprobe.analysis/1` JSON contract; the renderers turn it into
 * deterministic JSON, CSV tables or terminal tables.
 */
export { analyse } from './analyse.js';
export { CSV_TABLES, renderCsv } from './csv.js';
export { toStableJson } from './json.js';
export { type AnalyseOptions, DEFAULT_THRESHOLDS, THRESHOLD_NAMES, type Thresholds } from './options.js';
export { renderSummaryTables } from './table.js';
export * from './types.js';
