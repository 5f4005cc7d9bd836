/**
 * `writeReport(store, options)`: the analysis, its charts and the exports in one directory:
 *
 *   OUT/index.html        self-contained page (inline CSS and SVG, no script, no network)
 *   OUT/summary.json      the analysis (netprobe.analysis/1, stable JSON)
 *   OUT/results.csv       one row per result (csv.ts)
 *   OUT/charts/NAME.svg   each chart, and NAME.png (resvg, `pngScale` × the SVG size)
 *
 * results.csv is written concurrently (a worker thread for a SQLite file) while this thread runs
 * the analysis, reads the per-result chart data client by client and draws. Memory is bounded by
 * the largest client, never by the store.
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyse, type AnalyseOptions } from '../analysis/analyse.js';
import { toStableJson } from '../analysis/json.js';
import { resolveOptions } from '../analysis/options.js';
import { LocalClock, offsetSpans } from '../analysis/timezone.js';
import type { AnalysisSummary } from '../analysis/types.js';
import type { AnalysisSource, ResultFilter } from '../store/types.js';
import { CHARTS, type ChartInput } from './charts/index.js';
import { UPLOAD_THROUGHPUT } from './charts/throughput.js';
import { finishReportData, pooledCollector } from './data.js';
import { type PageChart, renderPage } from './page.js';
import { renderPng, renderSvg } from './render.js';
import { featuredClients, othersLabel } from './select.js';

export type ReportStage = 'analyse' | 'data' | 'charts' | 'page';

export interface ReportProgress {
  /** The main thread's work: stage, and how far into it (done of total: results analysed, featured clients read, charts drawn). */
  stage: ReportStage;
  done: number;
  total: number;
  /** results.csv rows written so far, of csvTotal. */
  csvRows: number;
  csvTotal: number;
}

export interface ReportOptions extends AnalyseOptions {
  /** Directory to write into (created if missing; files of an earlier report are replaced). */
  outDir: string;
  /** PNG pixels per SVG pixel (default 2: sharp on slides and high-DPI screens). */
  pngScale?: number;
  /** Called as the report advances (often; throttle when drawing). */
  onProgress?: (p: ReportProgress) => void;
  /** Clock for the page's "generated" time. */
  now?: () => number;
}

export interface ReportFile {
  /** Path relative to outDir ('index.html', 'charts/throughput.svg', …). */
  path: string;
  bytes: number;
}

export interface ReportResult {
  outDir: string;
  files: ReportFile[];
  summary: AnalysisSummary;
  /** Rows in results.csv. */
  csvRows: number;
  /** Charts drawn (the others had no data for the window). */
  charts: string[];
}

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function writeReport(store: AnalysisSource, options: ReportOptions): Promise<ReportResult> {
  const resolved = resolveOptions(options); // a bad option fails here, before anything is written
  const filter: ResultFilter = {
    ...(resolved.sinceMs !== null && { sinceMs: resolved.sinceMs }),
    ...(resolved.untilMs !== null && { untilMs: resolved.untilMs }),
    ...(resolved.clients.length > 0 && { clients: resolved.clients }),
  };
  const outDir = options.outDir;
  await mkdir(join(outDir, 'charts'), { recursive: true });
  const files: ReportFile[] = [];
  const write = async (path: string, content: string | Buffer) => {
    await writeFile(join(outDir, path), content);
    files.push({ path, bytes: typeof content === 'string' ? Buffer.byteLength(content) : content.length });
  };

  const csvTotal = await store.countResults(filter);
  const state: ReportProgress = { stage: 'analyse', done: 0, total: csvTotal, csvRows: 0, csvTotal };
  const progress = (update: Partial<ReportProgress>) => {
    Object.assign(state, update);
    options.onProgress?.({ ...state });
  };
  progress({});
  const csv = store.exportResultsCsv(join(outDir, 'results.csv'), filter, (rows) => progress({ csvRows: rows }));
  try {
    // The charts' per-result data rides along the analysis's read of the store (collect.ts).
    const span = await store.resultSpan(filter);
    const pooled = pooledCollector(resolved.timeZone, span.firstMs ?? 0, span.lastMs ?? 0);
    let read = 0;
    const summary = await analyse(store, options, {
      onClient: (m, analysis) => {
        pooled.addClient(m, analysis.verdict.baselines.throughputMbps);
        read += m.results;
        progress({ done: read });
      },
    });
    await write('summary.json', toStableJson(summary));

    const featured = featuredClients(summary);
    progress({ stage: 'data', done: 0, total: featured.clients.length });
    const data = await finishReportData(store, summary, pooled, {
      filter,
      featured,
      othersLabel: othersLabel(featured.others.length),
      onClient: (done) => progress({ done }),
    });

    // Uploads are analysed apart (the same rules, one direction at a time) for their own chart.
    let upload: ChartInput['upload'];
    if ((options.direction ?? 'download') === 'download' && (await store.countResults({ ...filter, direction: 'upload' })) > 0) {
      const uploadSummary = await analyse(store, { ...options, direction: 'upload' });
      upload = { summary: uploadSummary, featured: featuredClients(uploadSummary) };
    }

    const charts = await drawCharts({ summary, data, featured, upload }, options.pngScale ?? 2, outDir, write, (done) =>
      progress({ stage: 'charts', done, total: CHARTS.length }),
    );
    const csvRows = await csv.done;
    files.push({ path: 'results.csv', bytes: (await stat(join(outDir, 'results.csv'))).size });
    progress({ stage: 'page', done: 0, total: 1, csvRows });
    const generatedAt = new Date((options.now ?? Date.now)()).toISOString();
    await write('index.html', renderPage({ summary, charts, csvRows, generatedAt, version: await packageVersion() }));
    progress({ done: 1 });
    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { outDir, files, summary, csvRows, charts: charts.filter((c) => c.svg !== null).map((c) => c.name) };
  } finally {
    await csv.cancel();
  }
}

async function drawCharts(
  input: Omit<ChartInput, 'clock'>,
  pngScale: number,
  outDir: string,
  write: (path: string, content: string | Buffer) => Promise<void>,
  onChart: (done: number) => void,
): Promise<PageChart[]> {
  const { summary } = input;
  const first = summary.window.firstResult === null ? 0 : Date.parse(summary.window.firstResult);
  const last = summary.window.lastResult === null ? 0 : Date.parse(summary.window.lastResult);
  const clock = new LocalClock(offsetSpans(summary.window.timeZone, first, last));
  const charts: PageChart[] = [];
  const pngs: Promise<void>[] = [];
  for (const spec of CHARTS) {
    // An empty window draws nothing; the upload chart has its own analysis (and returns null without one).
    const built = summary.totals.downloads === 0 && spec !== UPLOAD_THROUGHPUT ? null : spec.build({ ...input, clock });
    let svg: string | null = null;
    if (built) {
      svg = renderSvg(built.option, built);
      await write(`charts/${spec.name}.svg`, svg);
      // Rasterised in the background while the next chart is laid out.
      const png = renderPng(svg, pngScale).then((buffer) => write(`charts/${spec.name}.png`, buffer));
      png.catch(() => undefined);
      pngs.push(png);
    } else {
      // No data for this chart now: an earlier report's files would be stale.
      await rm(join(outDir, 'charts', `${spec.name}.svg`), { force: true });
      await rm(join(outDir, 'charts', `${spec.name}.png`), { force: true });
    }
    charts.push({ name: spec.name, title: spec.title, caption: spec.caption, svg });
    onChart(charts.length);
  }
  await Promise.all(pngs);
  return charts;
}
