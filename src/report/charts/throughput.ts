/**
 * Chart 1: throughput over time, one panel per featured client (worst first) and one for the
 * others: the median per series bucket as a line, p10–p90 as a band, the client's congestion
 * episodes and the network-wide episodes shaded. The others' panel draws, per bucket, the median
 * and p10–p90 of the other clients' bucket medians.
 */
import { percentileSorted } from '../../analysis/stats.js';
import type { AnalysisSummary, SeriesPoint } from '../../analysis/types.js';
import { localWallMs } from '../data.js';
import { othersLabel } from '../select.js';
import { describeBucket } from '../text.js';
import { panelLayout } from './panels.js';
import { COLORS, areaLegendSeries, baseOption, legend, square, timeAxis, valueAxis } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

interface Line {
  label: string;
  /** The line breaks where consecutive points are further apart than this. */
  gapMs: number;
  points: { t: number; median: number | null; p10: number | null; p90: number | null }[];
  /** [start, end] of the episodes to shade (UTC ms). */
  episodes: [number, number][];
}

function othersLine(summary: AnalysisSummary, others: ReadonlySet<string>, label: string): Line {
  const byBucket = new Map<string, number[]>();
  for (const c of summary.series.clients) {
    if (!others.has(c.client)) continue;
    for (const p of c.points) {
      if (p.medianMbps === null) continue;
      const list = byBucket.get(p.start);
      if (list) list.push(p.medianMbps);
      else byBucket.set(p.start, [p.medianMbps]);
    }
  }
  const points = [...byBucket.entries()]
    .map(([start, values]) => {
      const sorted = Float64Array.from(values).sort();
      return {
        t: Date.parse(start),
        median: percentileSorted(sorted, 0.5),
        p10: percentileSorted(sorted, 0.1),
        p90: percentileSorted(sorted, 0.9),
      };
    })
    .sort((a, b) => a.t - b.t);
  return { label, points, episodes: [], gapMs: 3 * summary.series.bucketMs };
}

function clientLine(client: string, points: readonly SeriesPoint[], summary: AnalysisSummary): Line {
  // A gap in the analysis's sense (gapFactor × the client's usual spacing) breaks the line; a
  // bucket without a result in a sparse schedule does not.
  const interval = summary.clients.find((c) => c.client === client)?.schedule.expectedIntervalMs ?? 0;
  const bucketMs = summary.series.bucketMs;
  return {
    label: client,
    gapMs: Math.max(bucketMs, Math.ceil((summary.thresholds.gapFactor * interval) / bucketMs) * bucketMs),
    points: points.map((p) => ({ t: Date.parse(p.start), median: p.medianMbps, p10: p.p10Mbps, p90: p.p90Mbps })),
    episodes: summary.episodes.filter((e) => e.client === client && !e.networkWide).map((e) => [Date.parse(e.start), Date.parse(e.end)]),
  };
}

/** A null point in every gap longer than `gapMs`, so the line breaks there. */
function withGaps(points: Line['points'], gapMs: number): Line['points'] {
  const out: Line['points'] = [];
  for (const p of points) {
    const previous = out[out.length - 1];
    if (previous && p.t - previous.t > gapMs) out.push({ t: (previous.t + p.t) / 2, median: null, p10: null, p90: null });
    out.push(p);
  }
  return out;
}

export function throughputChart(input: ChartInput, title = 'Throughput over time'): BuiltChart | null {
  const { summary, featured, clock } = input;
  const series = new Map(summary.series.clients.map((c) => [c.client, c.points]));
  const lines: Line[] = featured.clients.filter((c) => series.has(c)).map((c) => clientLine(c, series.get(c)!, summary));
  if (featured.others.length > 0)
    lines.push(othersLine(summary, new Set(featured.others), `${othersLabel(featured.others.length)} (median of their medians)`));
  if (!lines.some((l) => l.points.some((p) => p.median !== null))) return null;

  const first = Date.parse(summary.window.firstResult!);
  const last = Date.parse(summary.window.lastResult!);
  // An episode shorter than this would be thinner than a pixel; it is widened to stay visible.
  const minShadeMs = Math.max(summary.series.bucketMs / 2, (last - first) / 300);
  const shade = (from: number, to: number) => [
    { xAxis: localWallMs(clock, from) },
    { xAxis: localWallMs(clock, Math.max(to, from + minShadeMs)) },
  ];
  const network = summary.networkEpisodes.map((e) => shade(Date.parse(e.start), Date.parse(e.end)));

  const layout = panelLayout(lines.map((l) => l.label));
  const out: Record<string, unknown>[] = [];
  lines.forEach((line, i) => {
    const at = (p: { t: number }) => localWallMs(clock, p.t);
    const common = { xAxisIndex: i, yAxisIndex: i, showSymbol: false, connectNulls: false };
    line.points = withGaps(line.points, line.gapMs);
    out.push(
      {
        ...common,
        type: 'line',
        name: 'p10',
        stack: `band${i}`,
        data: line.points.map((p) => [at(p), p.p10]),
        lineStyle: { opacity: 0 },
        showSymbol: false,
        silent: true,
      },
      {
        ...common,
        type: 'line',
        name: 'p10–p90',
        stack: `band${i}`,
        showSymbol: false,
        data: line.points.map((p) => [at(p), p.p90 === null || p.p10 === null ? null : p.p90 - p.p10]),
        lineStyle: { opacity: 0 },
        areaStyle: { color: COLORS.band },
        itemStyle: { color: COLORS.band },
      },
      {
        ...common,
        type: 'line',
        name: 'median',
        data: line.points.map((p) => [at(p), p.median]),
        showSymbol: true,
        symbol: 'circle',
        symbolSize: line.points.length > 150 ? 0 : 3,
        lineStyle: { color: COLORS.blue, width: 1.8 },
        itemStyle: { color: COLORS.blue },
        markArea: {
          silent: true,
          data: [
            ...line.episodes.map(([from, to]) => [{ ...shade(from, to)[0], itemStyle: { color: COLORS.congestion } }, shade(from, to)[1]]),
            ...network.map(([from, to]) => [{ ...from, itemStyle: { color: COLORS.network } }, to]),
          ],
        },
      },
    );
  });
  out.push(
    areaLegendSeries('congestion episode (this client)', COLORS.congestion),
    areaLegendSeries('network-wide episode', COLORS.network),
  );

  const base = baseOption(
    title,
    `Median per ${describeBucket(summary.series.bucketMs)} with the p10–p90 band; shaded: congestion episodes. Times in ${summary.window.timeZone}.`,
  );
  const option = {
    ...base,
    title: [base.title, ...layout.titles],
    legend: legend(['median', square('p10–p90'), square('congestion episode (this client)'), square('network-wide episode')], 52),
    grid: layout.grids,
    xAxis: layout.grids.map((_, i) =>
      timeAxis(localWallMs(clock, first), localWallMs(clock, last), layout.columns === 1 ? 10 : 5, { gridIndex: i }),
    ),
    yAxis: layout.grids.map((_, i) => valueAxis('Mbit/s', { gridIndex: i })),
    series: out,
  };
  return { option, width: layout.width, height: layout.height };
}

export const THROUGHPUT: ChartSpec = {
  name: 'throughput',
  title: 'Throughput over time',
  caption:
    'Each panel is one client (the most congested first) or the remaining clients together. The line is the median throughput per time bucket, the band the 10th–90th percentile. Orange shading: the client was in a congestion episode; pink: a network-wide episode (many clients at once).',
  build: throughputChart,
};

/** The same chart over the uploads (client → server, timed by the server), from the upload analysis. */
export const UPLOAD_THROUGHPUT: ChartSpec = {
  name: 'upload-throughput',
  title: 'Upload throughput over time',
  caption:
    'As the throughput chart, for uploads (client to server, timed by the receiving server; analysed apart from the downloads by the same rules): one panel per client, the median per time bucket, the 10th–90th percentile band, congestion episodes shaded.',
  build: (input) =>
    input.upload === undefined
      ? null
      : throughputChart({ ...input, summary: input.upload.summary, featured: input.upload.featured }, 'Upload throughput over time'),
};
