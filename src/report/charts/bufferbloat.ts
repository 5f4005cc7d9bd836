/**
 * Chart 5: idle vs loaded RTT per client (bufferbloat). Horizontal bars, the clients with the most
 * bufferbloat (loaded − idle) first, at most MAX_ROWS, then one row for the median over the rest.
 * Means from the analysis summary (rttMs.idle, rttMs.loaded, rttMs.bufferbloat).
 */
import { percentileSorted } from '../../analysis/stats.js';
import type { ClientSummary } from '../../analysis/types.js';
import { othersLabel } from '../select.js';
import { num } from '../text.js';
import { CHART_WIDTH, COLORS, baseOption, clientRowsLayout, legend, valueAxis } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

const MAX_ROWS = 15;
const ROW_PX = 34;

interface Row {
  label: string;
  idle: number | null;
  loaded: number | null;
  bloat: number | null;
}

const median = (xs: number[]): number | null => percentileSorted(Float64Array.from(xs).sort(), 0.5);

export function bufferbloatChart({ summary }: ChartInput): BuiltChart | null {
  const measured = summary.clients.filter((c) => c.rttMs.idle !== null || c.rttMs.loaded !== null);
  if (measured.length === 0) return null;
  const bloat = (c: ClientSummary) =>
    c.rttMs.bufferbloat ?? (c.rttMs.loaded !== null && c.rttMs.idle !== null ? c.rttMs.loaded - c.rttMs.idle : -Infinity);
  const ranked = [...measured].sort((a, b) => bloat(b) - bloat(a) || (a.client < b.client ? -1 : 1));
  const shown = ranked.length <= MAX_ROWS ? ranked : ranked.slice(0, MAX_ROWS - 1);
  const rest = ranked.slice(shown.length);
  const rows: Row[] = shown.map((c) => ({ label: c.client, idle: c.rttMs.idle, loaded: c.rttMs.loaded, bloat: c.rttMs.bufferbloat }));
  if (rest.length > 0) {
    const pick = (f: (c: ClientSummary) => number | null) => median(rest.flatMap((c) => (f(c) === null ? [] : [f(c)!])));
    rows.push({
      label: `${othersLabel(rest.length)} (median)`,
      idle: pick((c) => c.rttMs.idle),
      loaded: pick((c) => c.rttMs.loaded),
      bloat: pick((c) => c.rttMs.bufferbloat),
    });
  }
  const top = 96;
  const height = top + rows.length * ROW_PX + 56;
  const option = {
    ...baseOption(
      'Idle vs loaded round-trip time per client (bufferbloat)',
      rest.length > 0
        ? `Mean RTT with the link idle and while downloading; the ${shown.length} clients with the largest increase, then the rest.`
        : 'Mean RTT with the link idle and while downloading; the largest increase first.',
    ),
    legend: legend(['idle RTT', 'loaded RTT (during the download)'], 56),
    ...clientRowsLayout(
      rows.map((r) => r.label),
      top,
    ),
    xAxis: valueAxis('RTT (ms)', { nameRotate: 0, nameGap: 28 }),
    series: [
      {
        type: 'bar',
        name: 'idle RTT',
        data: rows.map((r) => r.idle),
        barGap: '10%',
        barCategoryGap: '30%',
        itemStyle: { color: COLORS.sky },
      },
      {
        type: 'bar',
        name: 'loaded RTT (during the download)',
        data: rows.map((r) => ({
          value: r.loaded,
          label: {
            show: r.bloat !== null,
            position: 'right',
            color: COLORS.vermillion,
            fontWeight: 'bold',
            formatter: r.bloat === null ? '' : `${r.bloat >= 0 ? '+' : '−'}${num(Math.abs(r.bloat))} ms`,
          },
        })),
        itemStyle: { color: COLORS.vermillion },
      },
    ],
  };
  return { option, width: CHART_WIDTH, height };
}

export const BUFFERBLOAT: ChartSpec = {
  name: 'bufferbloat',
  title: 'Idle vs loaded round-trip time per client',
  caption:
    'Round-trip time measured with the link idle (before the download, light blue) and while the download ran (on a second connection, red). The number is the mean increase: queues filling up under load (bufferbloat). Large increases make calls and games stutter whenever someone downloads.',
  build: bufferbloatChart,
};
