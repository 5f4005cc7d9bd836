/**
 * Chart 4: distributions of latency (download time: request to last byte) and response time
 * (request to first byte) as CDFs on a log time axis, one line per featured client and a dashed
 * grey line for the others together. Steeper is steadier; further right is slower.
 */
import { FONT_FAMILY } from '../font.js';
import { CHART_WIDTH, COLORS, axisName, baseOption, groupColor, legend } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

const LEFT = 64;
const RIGHT = 24;
const GAP = 64;

/** 0.1 → '0.1 ms', 1000 → '1 s'. */
function timeTick(value: number): string {
  return value >= 1000 ? `${Number((value / 1000).toPrecision(3))} s` : `${Number(value.toPrecision(3))} ms`;
}

function bounds(lists: [number, number][][]): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const list of lists) {
    for (const [v] of list) {
      if (v > 0) min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return null;
  return { min: 10 ** Math.floor(Math.log10(min)), max: 10 ** Math.ceil(Math.log10(Math.max(max, min * 1.01))) };
}

export function latencyChart({ data }: ChartInput): BuiltChart | null {
  const groups = data.latency.filter((g) => g.downloadMs.length > 0 || g.responseMs.length > 0);
  if (groups.length === 0) return null;
  const panels = [
    { key: 'downloadMs' as const, title: 'Latency (download time, request to last byte)' },
    { key: 'responseMs' as const, title: 'Response time (request to first byte)' },
  ];
  const width = (CHART_WIDTH - LEFT - RIGHT - GAP) / 2;
  const top = 110 + Math.max(0, Math.ceil(groups.length / 4) - 1) * 22;
  const series = panels.flatMap((panel, p) =>
    groups.map((g, i) => ({
      type: 'line',
      name: g.label,
      xAxisIndex: p,
      yAxisIndex: p,
      showSymbol: false,
      // Plotted as [ms, %]; a step at each value is what an empirical CDF is.
      data: g[panel.key].filter(([v]) => v > 0).map(([v, share]) => [v, Math.round(share * 10_000) / 100]),
      lineStyle: { color: groupColor(i, g.others), width: g.others ? 2 : 1.8, type: g.others ? 'dashed' : 'solid' },
      itemStyle: { color: groupColor(i, g.others) },
    })),
  );
  const base = baseOption(
    'Latency and response-time distributions',
    'Share of successful downloads at or below each time (log scale). Left: download time; right: time to first byte.',
  );
  const option = {
    ...base,
    title: [
      base.title,
      ...panels.map((panel, p) => ({
        text: panel.title,
        left: LEFT + p * (width + GAP) - 4,
        top: top - 30,
        textStyle: { fontFamily: FONT_FAMILY, fontSize: 13, fontWeight: 'bold', color: COLORS.text },
      })),
    ],
    legend: {
      ...legend(
        groups.map((g) => g.label),
        56,
      ),
      left: 16,
    },
    grid: panels.map((_, p) => ({ left: LEFT + p * (width + GAP), top, width, bottom: 56 })),
    xAxis: panels.map((panel, p) => {
      const b = bounds(groups.map((g) => g[panel.key]));
      return {
        type: 'log',
        gridIndex: p,
        logBase: 10,
        ...(b && { min: b.min, max: b.max }),
        ...axisName('time (log scale)'),
        axisLabel: { color: COLORS.muted, fontSize: 11, formatter: timeTick },
        nameLocation: 'middle',
        nameGap: 28,
        splitLine: { lineStyle: { color: COLORS.grid } },
        minorTick: { show: true },
        minorSplitLine: { show: true, lineStyle: { color: '#f3f4f6' } },
      };
    }),
    yAxis: panels.map((_, p) => ({
      type: 'value',
      gridIndex: p,
      min: 0,
      max: 100,
      interval: 25,
      ...axisName(''),
      axisLabel: { color: COLORS.muted, formatter: '{value} %' },
    })),
    series,
  };
  return { option, width: CHART_WIDTH, height: top + 330 };
}

export const LATENCY: ChartSpec = {
  name: 'latency',
  title: 'Latency and response-time distributions',
  caption:
    "Cumulative distributions: for a time on the x axis, the share of a client's successful downloads that finished (left) or got their first byte (right) within it. A line further right is slower; a long flat tail means occasional very slow downloads. The dashed grey line is all remaining clients together.",
  build: latencyChart,
};
