/**
 * The look every report chart shares: Okabe–Ito colours (distinguishable with every common form of
 * colour blindness), the shipped font, a title that says what the chart shows, quiet axes.
 */
import { FONT_FAMILY } from '../font.js';

/** Okabe & Ito (2008), "Color Universal Design"; yellow left out (too light on white). */
export const OKABE_ITO = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  purple: '#CC79A7',
  sky: '#56B4E9',
  vermillion: '#D55E00',
  yellow: '#F0E442',
  black: '#000000',
} as const;

/** One colour per client line (featured clients); "others" is grey and dashed. */
const GROUP_COLORS = [OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.green, OKABE_ITO.purple, OKABE_ITO.sky, OKABE_ITO.black];
const OTHERS_COLOR = '#7a7a7a';
export const COLORS = {
  text: '#1f2328',
  muted: '#57606a',
  axis: '#8c959f',
  grid: '#e6e8eb',
  band: 'rgba(0, 114, 178, 0.18)',
  congestion: 'rgba(213, 94, 0, 0.22)',
  network: 'rgba(204, 121, 167, 0.30)',
  ...OKABE_ITO,
};

export const CHART_WIDTH = 1000;

export function groupColor(index: number, others: boolean): string {
  return others ? OTHERS_COLOR : GROUP_COLORS[index % GROUP_COLORS.length]!;
}

/** The option parts every chart starts from. */
export function baseOption(title: string, subtitle: string): Record<string, unknown> {
  return {
    backgroundColor: '#ffffff',
    useUTC: true,
    textStyle: { fontFamily: FONT_FAMILY, color: COLORS.text, fontSize: 12 },
    title: {
      text: title,
      subtext: subtitle,
      left: 16,
      top: 10,
      itemGap: 6,
      textStyle: { fontFamily: FONT_FAMILY, fontSize: 16, fontWeight: 'bold', color: COLORS.text },
      subtextStyle: { fontFamily: FONT_FAMILY, fontSize: 12, color: COLORS.muted },
    },
  };
}

export type LegendItem = string | { name: string; icon: string };

/** A square legend symbol, for shaded areas and bars. */
export const square = (name: string): LegendItem => ({ name, icon: 'rect' });

/** A legend in the top-right corner, under nothing else. */
export function legend(data: LegendItem[], top = 14): Record<string, unknown> {
  return {
    type: 'plain',
    right: 16,
    top,
    itemWidth: 18,
    itemHeight: 10,
    itemGap: 14,
    textStyle: { fontFamily: FONT_FAMILY, fontSize: 12, color: COLORS.text },
    data,
  };
}

export function axisName(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    nameTextStyle: { fontFamily: FONT_FAMILY, fontSize: 12, color: COLORS.muted },
    axisLine: { lineStyle: { color: COLORS.axis } },
    axisTick: { lineStyle: { color: COLORS.axis } },
    axisLabel: { color: COLORS.muted, fontFamily: FONT_FAMILY, fontSize: 11, hideOverlap: true },
    splitLine: { lineStyle: { color: COLORS.grid } },
    ...extra,
  };
}

/** A value axis from 0 with its unit as the name, written along the axis. */
export function valueAxis(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'value', min: 0, ...axisName(name), nameLocation: 'middle', nameRotate: 90, nameGap: 44, ...extra };
}

/** Horizontal bars, one row per client: the grid and the category axis of client names, top first. */
export function clientRowsLayout(
  labels: readonly string[],
  top: number,
): { grid: Record<string, unknown>; yAxis: Record<string, unknown> } {
  return {
    grid: { left: 16, right: 90, top, bottom: 48, outerBoundsMode: 'same', outerBoundsContain: 'axisLabel' },
    yAxis: {
      type: 'category',
      inverse: true,
      data: labels,
      ...axisName(''),
      axisLabel: { color: COLORS.text, fontSize: 12, width: 220, overflow: 'truncate' },
      splitLine: { show: false },
    },
  };
}

/** Time axis labels: the day where a day starts ('Tue 7 Jan'), else the time. */
const TIME_LABELS = {
  year: '{yyyy}',
  month: '{MMM} {yyyy}',
  day: '{ee} {d} {MMM}',
  hour: '{HH}:{mm}',
  minute: '{HH}:{mm}',
  second: '{HH}:{mm}:{ss}',
};

const HOUR_MS = 3_600_000;
/** Tick intervals from 5 s (a first minute of results) to 30 days. */
const TICKS_MS = [
  ...[5, 10, 15, 30, 60, 120, 300, 600].map((s) => s * 1000),
  ...[0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 168, 336, 720].map((h) => h * HOUR_MS),
];

/**
 * A time axis of local wall-clock times (data shifted by the zone's offset, drawn with useUTC)
 * from `min` to `max`, with at most `labels` ticks at a fixed interval (so midnights, labelled
 * with the date, are ticks whenever the interval divides a day).
 */
export function timeAxis(min: number, max: number, labels: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const base = axisName('');
  const interval = TICKS_MS.find((t) => (max - min) / t <= labels) ?? TICKS_MS[TICKS_MS.length - 1]!;
  return {
    type: 'time',
    ...base,
    min,
    max,
    minInterval: interval,
    maxInterval: interval,
    axisLabel: { ...(base.axisLabel as object), formatter: TIME_LABELS, hideOverlap: true },
    splitLine: { show: false },
    ...extra,
  };
}

/** A series that only gives the legend an entry (for shaded areas, which have no legend symbol of their own). */
export function areaLegendSeries(name: string, color: string, xAxisIndex = 0, yAxisIndex = 0): Record<string, unknown> {
  return { type: 'line', name, data: [], xAxisIndex, yAxisIndex, itemStyle: { color }, lineStyle: { color } };
}
