/**
 * Chart 2: the hour-of-day profile. Bars: downloads per local hour, the busiest hour in dark blue
 * and labelled; line: median throughput of the hour's successful downloads (right axis); the most
 * congested hour shaded when the analysis names one.
 */
import { hourRange, num, percent } from '../text.js';
import { COLORS, CHART_WIDTH, areaLegendSeries, axisName, baseOption, legend, square, valueAxis } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

export function hoursChart({ summary }: ChartInput): BuiltChart | null {
  if (summary.totals.downloads === 0) return null;
  const busiest = summary.busiestHour;
  const congested = summary.mostCongestedHour;
  const busiestHour = busiest.hour;
  const hours = summary.hourOfDay;
  const busiestText =
    busiestHour === null
      ? `Busiest hour: not named (${busiest.reason})`
      : `Busiest hour ${hourRange(busiestHour)}: ${percent(busiest.share, 1)} of downloads (${busiest.confidence} confidence)`;
  const congestedText =
    congested.hour === null
      ? 'most congested hour: not named'
      : `most congested ${hourRange(congested.hour)}: ${percent(congested.drop)} below the typical hour (${congested.confidence} confidence)`;

  const option = {
    ...baseOption(`Downloads and throughput by hour of day (${summary.window.timeZone})`, `${busiestText}; ${congestedText}.`),
    legend: legend([square('downloads'), square('busiest hour'), 'median throughput', square('most congested hour')], 58),
    grid: { left: 70, right: 78, top: 110, bottom: 58 },
    xAxis: {
      type: 'category',
      data: hours.map((h) => String(h.hour).padStart(2, '0')),
      ...axisName('hour of day (local time)'),
      nameLocation: 'middle',
      nameGap: 30,
      splitLine: { show: false },
      axisTick: { alignWithLabel: true, lineStyle: { color: COLORS.axis } },
    },
    yAxis: [
      // Headroom above the tallest (busiest) bar for its label.
      valueAxis('downloads', { minInterval: 1, boundaryGap: [0, 0.15] }),
      valueAxis('median throughput (Mbit/s)', { splitLine: { show: false }, position: 'right', nameRotate: -90, nameGap: 48 }),
      // The most congested hour: a full-height band behind the bars.
      { type: 'value', min: 0, max: 1, show: false },
    ],
    series: [
      {
        type: 'bar',
        name: 'most congested hour',
        yAxisIndex: 2,
        barWidth: '100%',
        silent: true,
        z: 0,
        itemStyle: { color: COLORS.congestion },
        data: hours.map((h) => (h.hour === congested.hour ? 1 : null)),
        label: {
          show: true,
          position: 'top',
          distance: 4,
          color: COLORS.vermillion,
          fontWeight: 'bold',
          formatter: (p: { value: number | null }) => (p.value === null ? '' : 'most congested'),
        },
      },
      {
        type: 'bar',
        name: 'downloads',
        barWidth: '70%',
        barGap: '-85%',
        z: 2,
        itemStyle: { color: COLORS.sky },
        data: hours.map((h) => ({
          value: h.downloads,
          itemStyle: { color: h.hour === busiestHour ? COLORS.blue : COLORS.sky },
          label:
            h.hour === busiestHour
              ? {
                  show: true,
                  position: 'insideTop',
                  distance: 8,
                  color: '#ffffff',
                  fontWeight: 'bold',
                  fontSize: 11,
                  rotate: 90,
                  align: 'right',
                  verticalAlign: 'middle',
                  formatter: 'busiest',
                }
              : undefined,
        })),
      },
      areaLegendSeries('busiest hour', COLORS.blue),
      {
        type: 'line',
        name: 'median throughput',
        yAxisIndex: 1,
        data: hours.map((h) => h.medianThroughputMbps),
        connectNulls: false,
        symbol: 'circle',
        symbolSize: 6,
        lineStyle: { color: COLORS.orange, width: 2.2 },
        itemStyle: { color: COLORS.orange, borderColor: '#ffffff', borderWidth: 1 },
        label: { show: false, formatter: (p: { value: number }) => num(p.value) },
      },
    ],
  };
  return { option, width: CHART_WIDTH, height: 420 };
}

export const HOURS: ChartSpec = {
  name: 'hours',
  title: 'Downloads and throughput by hour of day',
  caption:
    "Bars count the downloads that started in each local hour (dark blue: the busiest hour); the orange line is the median throughput of that hour's successful downloads (right axis). The shaded hour is the most congested: where clients get the lowest share of their own usual throughput.",
  build: hoursChart,
};
