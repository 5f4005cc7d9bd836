/**
 * One table of the summary as CSV (RFC 4180, header row, '\n' line ends). Columns are JSON field
 * paths joined with '.'; null is an empty cell; a list of names is joined with ';'; a list of
 * objects becomes its length. Pure.
 */
import { UsageError } from '../errors.js';
import type { AnalysisSummary } from './types.js';

type Row = Record<string, unknown>;

const CLIENT_COLUMNS = [
  'client',
  'downloads.total',
  'downloads.succeeded',
  'downloads.failed',
  'downloads.failureRate',
  'throughputMbps.mean',
  'throughputMbps.min',
  'throughputMbps.max',
  'throughputMbps.median',
  'throughputMbps.p5',
  'throughputMbps.p95',
  'throughputMbps.stddev',
  'throughputMbps.cv',
  'latencyMs.mean',
  'latencyMs.p95',
  'responseMs.mean',
  'responseMs.p95',
  'rttMs.idle',
  'rttMs.loaded',
  'rttMs.bufferbloat',
  'clientLimitedShare',
  'bytes',
  'firstSeen',
  'lastSeen',
  'schedule.expectedIntervalMs',
  'schedule.gaps',
  'schedule.longestGapMs',
  'schedule.missedEstimate',
  'schedule.silent',
  'schedule.silentForMs',
  'baseline.throughputMbps',
  'baseline.latencyMs',
  'trend.slopeMbpsPerDay',
  'trend.slopeFractionPerDay',
  'trend.points',
  'changePoints',
  'episodes',
];
const GROUP_COLUMNS = ['downloads', 'failed', 'failureRate', 'bytes', 'medianThroughputMbps', 'p95LatencyMs'];
const LOAD_COLUMNS = [
  'serverLoad.meanConcurrentTransfers',
  'serverLoad.meanOutboundMbps',
  'serverLoad.windowMeanConcurrentTransfers',
  'serverLoad.coincides',
];

const TABLES: Record<string, { columns: string[]; rows: (s: AnalysisSummary) => Row[] }> = {
  clients: { columns: CLIENT_COLUMNS, rows: (s) => s.clients as unknown as Row[] },
  hours: { columns: ['hour', ...GROUP_COLUMNS, 'relativeThroughput', 'clients'], rows: (s) => s.hourOfDay as unknown as Row[] },
  'weekday-hours': { columns: ['weekday', 'hour', ...GROUP_COLUMNS], rows: (s) => s.weekdayHour as unknown as Row[] },
  episodes: {
    columns: [
      'client',
      'start',
      'end',
      'durationMs',
      'measurements',
      'causes.lowThroughput',
      'causes.highLatency',
      'causes.failed',
      'severity',
      'baselineMbps',
      'medianThroughputMbps',
      'maxLatencyMs',
      'networkWide',
      ...LOAD_COLUMNS,
      'likelyCause',
    ],
    rows: (s) => s.episodes as unknown as Row[],
  },
  'network-episodes': {
    columns: ['start', 'end', 'durationMs', 'clients', 'peakClients', 'peakShare', 'severity', ...LOAD_COLUMNS, 'likelyCause'],
    rows: (s) => s.networkEpisodes as unknown as Row[],
  },
  series: {
    columns: ['client', 'start', 'downloads', 'failed', 'medianMbps', 'p10Mbps', 'p90Mbps'],
    rows: (s) => s.series.clients.flatMap((c) => c.points.map((p) => ({ client: c.client, ...p }))),
  },
  'network-series': {
    columns: ['start', 'clients', 'medianRelative', 'p10Relative', 'p90Relative'],
    rows: (s) => s.series.network as unknown as Row[],
  },
  findings: { columns: ['kind', 'client', 'at', 'message'], rows: (s) => s.findings as unknown as Row[] },
};

export const CSV_TABLES = Object.keys(TABLES);

export function checkCsvTable(name: string): string {
  if (!(name in TABLES)) throw new UsageError(`unknown CSV table '${name}' (one of ${CSV_TABLES.join(', ')})`);
  return name;
}

function get(row: Row, path: string): unknown {
  let value: unknown = row;
  for (const key of path.split('.')) value = value === null || value === undefined ? null : (value as Row)[key];
  return value;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = Array.isArray(value) ? (value.every((v) => typeof v !== 'object') ? value.join(';') : String(value.length)) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function renderCsv(summary: AnalysisSummary, table: string): string {
  const spec = TABLES[checkCsvTable(table)]!;
  const lines = [spec.columns.join(','), ...spec.rows(summary).map((row) => spec.columns.map((c) => cell(get(row, c))).join(','))];
  return `${lines.join('\n')}\n`;
}
