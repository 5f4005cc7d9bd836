/**
 * Small multiples: one grid per group (a client, or "others"), two columns when there is more
 * than one, a label over each panel, time on every x axis. Returns the option parts to merge.
 */
import { FONT_FAMILY } from '../font.js';
import { CHART_WIDTH, COLORS } from './theme.js';

export interface PanelLayout {
  columns: number;
  width: number;
  height: number;
  grids: Record<string, unknown>[];
  /** One title per panel (its label), after the chart's own title. */
  titles: Record<string, unknown>[];
}

const TOP = 86;
const BOTTOM = 16;
const ROW_HEIGHT = 220;
const SINGLE_HEIGHT = 300;
const GAP_X = 56;
const LEFT = 62;
const RIGHT = 24;
const LABEL_SPACE = 26;

export function panelLayout(labels: readonly string[]): PanelLayout {
  const columns = labels.length > 1 ? 2 : 1;
  const rows = Math.ceil(labels.length / columns);
  const rowHeight = labels.length === 1 ? SINGLE_HEIGHT : ROW_HEIGHT;
  const panelWidth = (CHART_WIDTH - LEFT - RIGHT - (columns - 1) * GAP_X) / columns;
  const grids: Record<string, unknown>[] = [];
  const titles: Record<string, unknown>[] = [];
  labels.forEach((label, i) => {
    const column = i % columns;
    const row = Math.floor(i / columns);
    const left = LEFT + column * (panelWidth + GAP_X);
    const top = TOP + row * rowHeight;
    grids.push({ left, top: top + LABEL_SPACE, width: panelWidth, height: rowHeight - LABEL_SPACE - 34, containLabel: false });
    titles.push({
      text: label,
      left: left - 4,
      top,
      textStyle: { fontFamily: FONT_FAMILY, fontSize: 13, fontWeight: 'bold', color: COLORS.text, width: panelWidth, overflow: 'truncate' },
    });
  });
  return { columns, width: CHART_WIDTH, height: TOP + rows * rowHeight + BOTTOM, grids, titles };
}
