/**
 * Chart 3: weekday × hour heatmap of throughput relative to each client's baseline (see
 * ReportData.weekdayHour). Colours: ColorBrewer RdYlBu (colour-blind safe), red where clients get
 * a small share of their usual throughput; empty cells had too few results to say.
 */
import { COLORS, CHART_WIDTH, axisName, baseOption } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** [upper bound (exclusive) of relative throughput, colour, legend label]. */
const CLASSES: [number, string, string][] = [
  [0.5, '#d73027', 'under 50 %'],
  [0.7, '#fc8d59', '50–70 %'],
  [0.8, '#fee090', '70–80 %'],
  [0.9, '#e0f3f8', '80–90 %'],
  [1.0, '#91bfdb', '90–100 %'],
  [Infinity, '#4575b4', '100 % or more'],
];

export function heatmapChart({ summary, data }: ChartInput): BuiltChart | null {
  const cells = data.weekdayHour;
  if (!cells.some((c) => c.relative !== null)) return null;
  // White numbers on the two dark classes, dark ones elsewhere.
  const values = cells.flatMap((c, i) =>
    c.relative === null
      ? []
      : [
          {
            value: [i % 24, Math.floor(i / 24), Math.round(c.relative * 1000) / 10, c.results],
            label: { color: c.relative < 0.5 || c.relative >= 1 ? '#ffffff' : COLORS.text },
          },
        ],
  );
  let lower = -Infinity;
  const pieces = CLASSES.map(([upper, color, label]) => {
    const piece = { ...(lower > -Infinity && { gte: lower * 100 }), ...(upper < Infinity && { lt: upper * 100 }), color, label };
    lower = upper;
    return piece;
  });
  const option = {
    ...baseOption(
      `Throughput relative to baseline by weekday and hour (${summary.window.timeZone})`,
      "Per cell: the median of (throughput ÷ the client's own p90 baseline) over the downloads there, in %. Empty: too few downloads.",
    ),
    grid: { left: 64, right: 24, top: 92, bottom: 96 },
    xAxis: {
      type: 'category',
      data: Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0')),
      ...axisName('hour of day (local time)'),
      nameLocation: 'middle',
      nameGap: 28,
      axisLine: { show: false },
      axisTick: { show: false },
      splitArea: { show: false },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'category',
      data: WEEKDAYS,
      inverse: true,
      ...axisName(''),
      axisLine: { show: false },
      axisTick: { show: false },
      splitLine: { show: false },
    },
    visualMap: {
      type: 'piecewise',
      dimension: 2,
      pieces,
      orient: 'horizontal',
      left: 'center',
      bottom: 10,
      itemWidth: 22,
      itemHeight: 14,
      text: undefined,
      textStyle: { color: COLORS.text, fontSize: 12 },
      hoverLink: false,
    },
    series: [
      {
        type: 'heatmap',
        name: 'relative throughput',
        data: values,
        itemStyle: { borderColor: '#ffffff', borderWidth: 2 },
        label: { show: true, color: COLORS.text, fontSize: 10, formatter: (p: { value: number[] }) => String(Math.round(p.value[2]!)) },
      },
    ],
  };
  return { option, width: CHART_WIDTH, height: 420 };
}

export const HEATMAP: ChartSpec = {
  name: 'weekday-hour',
  title: 'Throughput relative to baseline by weekday and hour',
  caption:
    "Each cell is one local hour of one weekday. The number is the share (in %) of its client's usual throughput (the client's p90 baseline) that a download there got, the median over the cell's downloads; red cells are where the network was congested, blue where clients got their usual speed.",
  build: heatmapChart,
};
