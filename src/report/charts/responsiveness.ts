/**
 * Chart 6: responsiveness under load per client, in round trips per minute (RPM). Horizontal bars,
 * the least responsive clients first, at most MAX_ROWS, then one row for the median over the rest.
 * Each client's figure is the analysis summary's `rpm` (analysis/responsiveness.ts `aggregateRpm`,
 * described by `AGGREGATE_RPM_DEFINITION`).
 */
import { AGGREGATE_RPM_DEFINITION } from '../../analysis/responsiveness.js';
import { percentileSorted } from '../../analysis/stats.js';
import { othersLabel } from '../select.js';
import { CHART_WIDTH, COLORS, baseOption, clientRowsLayout, valueAxis } from './theme.js';
import type { BuiltChart, ChartInput, ChartSpec } from './types.js';

const MAX_ROWS = 15;
const ROW_PX = 30;

export function responsivenessChart({ summary }: ChartInput): BuiltChart | null {
  const measured = summary.clients.filter((c) => c.rpm !== null);
  if (measured.length === 0) return null;
  const ranked = [...measured].sort((a, b) => a.rpm! - b.rpm! || (a.client < b.client ? -1 : 1));
  const shown = ranked.length <= MAX_ROWS ? ranked : ranked.slice(0, MAX_ROWS - 1);
  const rest = ranked.slice(shown.length);
  const rows = shown.map((c) => ({ label: c.client, rpm: c.rpm!, results: c.rpmResults }));
  if (rest.length > 0)
    rows.push({
      label: `${othersLabel(rest.length)} (median)`,
      rpm: percentileSorted(Float64Array.from(rest.map((c) => c.rpm!)).sort(), 0.5)!,
      results: rest.reduce((sum, c) => sum + c.rpmResults, 0),
    });
  const top = 80;
  const height = top + rows.length * ROW_PX + 56;
  const option = {
    ...baseOption(
      'Responsiveness under load per client (RPM)',
      'Round trips per minute while the transfer ran, per client the harmonic mean of its results (n = results); higher is better. The least responsive first.',
    ),
    ...clientRowsLayout(
      rows.map((r) => r.label),
      top,
    ),
    xAxis: valueAxis('RPM (round trips per minute)', { nameRotate: 0, nameGap: 28 }),
    series: [
      {
        type: 'bar',
        name: 'RPM',
        barCategoryGap: '30%',
        itemStyle: { color: COLORS.sky },
        data: rows.map((r) => ({
          value: Math.round(r.rpm),
          label: { show: true, position: 'right', color: COLORS.text, formatter: `${Math.round(r.rpm)}  (${r.results} results)` },
        })),
      },
    ],
  };
  return { option, width: CHART_WIDTH, height };
}

export const RESPONSIVENESS: ChartSpec = {
  name: 'responsiveness',
  title: 'Responsiveness under load per client (RPM)',
  caption: `Round trips per minute (RPM) each client measured while its transfer loaded the link. Per client: the ${AGGREGATE_RPM_DEFINITION}. A full queue in the path lowers it; below a few hundred, calls and games suffer whenever the link is busy.`,
  build: responsivenessChart,
};
