/**
 * Chart 6: SmokePing-style latency over time. Per time bucket the median download time is a line
 * and the spread is "smoke": grey bands from the 5th to the 95th percentile, darker towards the
 * middle (25–75). Buckets with failed downloads get a tick along the bottom, coloured by their
 * share. One panel per featured client and one for the others (their downloads pooled); a panel
 * whose spread covers orders of magnitude (pooled clients of very different speeds) is drawn on a
 * log axis.
 */
import { SMOKE_QUANTILES, type SmokeBucket } from '../data.js';
import { describeBucket } from '../text.js';
import { panelLayout } from './panels.js';
import { COLORS, OKABE_ITO, areaLegendSeries, baseOption, legend, square, timeAxis, valueAxis } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

const Q = Object.fromEntries(SMOKE_QUANTILES.map((p, i) => [p, i])) as Record<number, number>;
/** [lower quantile, upper quantile, fill]: stacked from the bottom, so p5 is the invisible base. */
const LAYERS: [number, number, string][] = [
  [0.05, 0.1, 'rgba(60, 60, 60, 0.10)'],
  [0.1, 0.25, 'rgba(60, 60, 60, 0.22)'],
  [0.25, 0.5, 'rgba(60, 60, 60, 0.38)'],
  [0.5, 0.75, 'rgba(60, 60, 60, 0.38)'],
  [0.75, 0.9, 'rgba(60, 60, 60, 0.22)'],
  [0.9, 0.95, 'rgba(60, 60, 60, 0.10)'],
];
/** Failure share classes of a bucket (as SmokePing colours packet loss). */
const LOSS: [number, string, string][] = [
  [0.2, OKABE_ITO.purple, 'failed ≥ 20 %'],
  [0.05, OKABE_ITO.vermillion, 'failed 5–20 %'],
  [0, OKABE_ITO.orange, 'failed < 5 %'],
];

const q = (b: SmokeBucket, p: number): number | null => b.q?.[Q[p]!] ?? null;

/** An upper limit that keeps the smoke readable: outliers above it are clipped, not rescaled. */
function yMax(points: readonly SmokeBucket[]): number | undefined {
  const tops = points.flatMap((b) => (q(b, 0.95) === null ? [] : [q(b, 0.95)!])).sort((a, b) => a - b);
  const medians = points.flatMap((b) => (q(b, 0.5) === null ? [] : [q(b, 0.5)!])).sort((a, b) => a - b);
  if (tops.length === 0 || medians.length === 0) return undefined;
  const typicalTop = tops[Math.floor(0.95 * (tops.length - 1))]!;
  const highestMedian = medians[medians.length - 1]!;
  return niceCeil(Math.max(typicalTop, highestMedian) * 1.05);
}

/** p95 ÷ p5 in a typical bucket above this: a log axis. */
const LOG_SPREAD = 6;

function spread(points: readonly SmokeBucket[]): number {
  const ratios = points.flatMap((b) => (q(b, 0.05)! > 0 && q(b, 0.95) !== null ? [q(b, 0.95)! / q(b, 0.05)!] : [])).sort((a, b) => a - b);
  return ratios[Math.floor(ratios.length / 2)] ?? 1;
}

function yAxisFor(points: readonly SmokeBucket[], gridIndex: number): Record<string, unknown> {
  const max = yMax(points);
  if (spread(points) <= LOG_SPREAD) return valueAxis('ms', { gridIndex, max });
  const lows = points.flatMap((b) => (q(b, 0.05)! > 0 ? [q(b, 0.05)!] : []));
  return valueAxis('ms (log scale)', {
    type: 'log',
    gridIndex,
    min: 10 ** Math.floor(Math.log10(Math.min(...lows))),
    max: max === undefined ? undefined : 10 ** Math.ceil(Math.log10(max)),
  });
}

/** The next of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ᵏ at or above x. */
function niceCeil(x: number): number {
  const p = 10 ** Math.floor(Math.log10(x));
  return ([1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].find((m) => m * p >= x) ?? 10) * p;
}

export function smokeChart({ summary, data }: ChartInput): BuiltChart | null {
  const groups = data.smoke.filter((g) => g.points.some((b) => b.q !== null));
  if (groups.length === 0) return null;
  const layout = panelLayout(groups.map((g) => (g.others ? `${g.label}: downloads pooled` : g.label)));
  const series: Record<string, unknown>[] = [];
  const lossShown = new Set<string>();
  groups.forEach((g, i) => {
    const axes = { xAxisIndex: i, yAxisIndex: i, showSymbol: false, silent: true };
    const stack = `smoke${i}`;
    series.push({ ...axes, type: 'line', name: 'p5', stack, data: g.points.map((b) => [b.start, q(b, 0.05)]), lineStyle: { opacity: 0 } });
    for (const [lo, hi, fill] of LAYERS) {
      series.push({
        ...axes,
        type: 'line',
        name: 'smoke',
        stack,
        data: g.points.map((b) => [b.start, q(b, hi) === null || q(b, lo) === null ? null : q(b, hi)! - q(b, lo)!]),
        lineStyle: { opacity: 0 },
        areaStyle: { color: fill, opacity: 1 },
        itemStyle: { color: 'rgba(60, 60, 60, 0.38)' },
      });
    }
    series.push({
      ...axes,
      type: 'line',
      name: 'median',
      data: g.points.map((b) => [b.start, q(b, 0.5)]),
      lineStyle: { color: COLORS.blue, width: 1.6 },
      itemStyle: { color: COLORS.blue },
    });
    for (const [min, color, name] of LOSS) {
      const upper = LOSS.find(([m]) => m > min)?.[0] ?? Infinity;
      const points = g.points.filter((b) => {
        const share = b.downloads === 0 ? 0 : b.failed / b.downloads;
        return b.failed > 0 && share >= min && share < upper;
      });
      if (points.length > 0) lossShown.add(name);
      // A tick along the bottom of the panel (its own hidden 0–1 axis), out of the smoke's way.
      series.push({
        xAxisIndex: i,
        yAxisIndex: groups.length + i,
        type: 'scatter',
        name,
        symbol: 'rect',
        symbolSize: [2.5, 9],
        silent: true,
        data: points.map((b) => [b.start + data.smokeBucketMs / 2, 0.05]),
        itemStyle: { color },
      });
    }
  });
  series.push(areaLegendSeries('p5–p95 smoke', 'rgba(60, 60, 60, 0.38)'));
  const base = baseOption(
    'Latency over time (SmokePing style)',
    `Download time per ${describeBucket(data.smokeBucketMs)}: blue line the median, grey smoke from p5 to p95 (darker = p25–p75). Times in ${summary.window.timeZone}.`,
  );
  const first = Math.min(...groups.map((g) => g.points[0]?.start ?? Infinity));
  const last = Math.max(...groups.map((g) => (g.points[g.points.length - 1]?.start ?? -Infinity) + data.smokeBucketMs));
  const option = {
    ...base,
    title: [base.title, ...layout.titles],
    legend: legend(
      ['median', square('p5–p95 smoke'), ...LOSS.filter(([, , name]) => lossShown.has(name)).map(([, , name]) => square(name))],
      52,
    ),
    grid: layout.grids,
    xAxis: layout.grids.map((_, i) => timeAxis(first, last, layout.columns === 1 ? 10 : 5, { gridIndex: i })),
    yAxis: [
      ...layout.grids.map((_, i) => yAxisFor(groups[i]!.points, i)),
      ...layout.grids.map((_, i) => ({ type: 'value', gridIndex: i, min: 0, max: 1, show: false })),
    ],
    series,
  };
  return { option, width: layout.width, height: layout.height };
}

export const SMOKE: ChartSpec = {
  name: 'latency-smoke',
  title: 'Latency over time (SmokePing style)',
  caption:
    'Like SmokePing: the blue line is the median download time per time bucket, the grey "smoke" around it the spread (5th–95th percentile, darker in the middle half). Thick smoke means unsteady latency; smoke that rises with the line means the path slowed down. Ticks along the bottom mark buckets with failed downloads (orange: under 5 %, red: 5–20 %, pink: 20 % or more). A panel whose spread covers orders of magnitude (pooled clients of very different speeds) has a log scale.',
  build: smokeChart,
};
