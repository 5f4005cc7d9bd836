import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { type ReportProgress, writeReport } from '../report/report.js';
import { writableDir } from './fs-errors.js';
import { type SelectionFlags, openSelectedStore, selectionOptions } from './analysis-args.js';
import { reportTable } from './options/analysis.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

export interface ReportIo {
  stdout: { write(text: string): unknown };
  /** Where the progress bar goes; it is drawn only when this is a terminal. */
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** The clock for relative --since/--until ('24h' = 24 hours before now). */
  now: () => number;
}

interface ReportFlags extends SelectionFlags {
  out: string;
  pngScale: number;
}

/** Shares of the bar: the main thread's stages, then results.csv (written alongside) counts for half. */
const STAGES: Record<ReportProgress['stage'], [from: number, to: number, label: string]> = {
  analyse: [0, 0.7, 'analysing'],
  data: [0.7, 0.75, 'reading the featured clients'],
  charts: [0.75, 0.97, 'drawing charts'],
  page: [0.97, 1, 'writing index.html'],
};

function progressBar(stream: ReportIo['stderr']): { update(p: ReportProgress): void; stop(): void } | undefined {
  if (!stream.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: 'report {bar} {percentage}% | {stage}', hideCursor: true, stream, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1000, 0, { stage: 'starting' });
  return {
    update(p) {
      const [from, to, label] = STAGES[p.stage];
      const main = from + (to - from) * (p.total > 0 ? Math.min(1, p.done / p.total) : 0);
      const csv = p.csvTotal > 0 ? p.csvRows / p.csvTotal : 1;
      bar.update(Math.round(500 * main + 500 * csv), { stage: `${label} · results.csv ${Math.round(csv * 100)} %` });
    },
    stop: () => bar.stop(),
  };
}

/** `netprobe report`: the analysis as a self-contained HTML page with charts, plus JSON and CSV exports. */
export function registerReport(program: Command, io: ReportIo = { stdout: process.stdout, stderr: process.stderr, now: Date.now }): void {
  addOptions(
    program
      .command('report')
      .description(
        'write a report: index.html with the findings, a client table and charts; charts as SVG and PNG; summary.json; results.csv',
      ),
    reportTable,
  ).action(async (opts: Record<string, unknown>) => {
    const flags = resolveOptions(reportTable, { flags: opts }) as unknown as ReportFlags;
    const options = { ...selectionOptions(flags, io.now()), outDir: flags.out, pngScale: flags.pngScale, now: io.now };
    const store = await openSelectedStore(flags.store);
    await writableDir(flags.out, '--out').catch(async (err: unknown) => {
      await store.close();
      throw err;
    });
    const bar = progressBar(io.stderr);
    try {
      const result = await writeReport(store, { ...options, onProgress: (p) => bar?.update(p) });
      bar?.stop();
      const s = result.summary;
      io.stdout.write(
        `report: ${join(result.outDir, 'index.html')}\n` +
          `  ${s.totals.downloads.toLocaleString('en-US')} results from ${s.totals.clients} clients; ` +
          `${result.charts.length} charts (SVG and PNG) in ${join(result.outDir, 'charts')}; summary.json; results.csv (${result.csvRows.toLocaleString('en-US')} rows)\n`,
      );
    } finally {
      bar?.stop();
      await store.close();
    }
  });
}
