/**
 * Chart 6: responsiveness under load per client, in round trips per minute (RPM,
 * draft-ietf-ippm-responsiveness: 60,000 ÷ the trimmed mean loaded RTT in ms). Horizontal bars,
 * the least responsive clients first, at most MAX_ROWS, then one row for the median over the rest.
 * Means from the analysis summary (`rpm` of each client).
 */
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
  const rows = shown.map((c) => ({ label: c.client, rpm: c.rpm! }));
  if (rest.length > 0)
    rows.push({
      label: `${othersLabel(rest.length)} (median)`,
      rpm: percentileSorted(Float64Array.from(rest.map((c) => c.rpm!)).sort(), 0.5)!,
    });
  const top = 80;
  const height = top + rows.length * ROW_PX + 56;
  const option = {
    ...baseOption(
      'Responsiveness under load per client (RPM)',
      'Round trips per minute while the transfer ran (60,000 ÷ the trimmed mean loaded RTT); higher is better. The least responsive first.',
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
          label: { show: true, position: 'right', color: COLORS.text, formatter: `${Math.round(r.rpm)}` },
        })),
      },
    ],
  };
  return { option, width: CHART_WIDTH, height };
}

export const RESPONSIVENESS: ChartSpec = {
  name: 'responsiveness',
  title: 'Responsiveness under load per client (RPM)',
  caption:
    'Round trips per minute (RPM) each client measured while its transfer loaded the link: 60,000 divided by the trimmed mean of the loaded round-trip times in ms (the IETF responsiveness draft). A full queue in the path lowers it; below a few hundred, calls and games suffer whenever the link is busy.',
  build: responsivenessChart,
};
