/**
 * What a chart builder gets and gives. Builders are pure: the analysis summary and the report's
 * per-result data in, an ECharts option and its size out (null when there is nothing to draw).
 */
import type { LocalClock } from '../../analysis/timezone.js';
import type { AnalysisSummary } from '../../analysis/types.js';
import type { ReportData } from '../data.js';
import type { Featured } from '../select.js';

export interface ChartInput {
  summary: AnalysisSummary;
  data: ReportData;
  featured: Featured;
  /** Local time of the analysis time zone. */
  clock: LocalClock;
  /** The same window analysed for uploads (analysis/analyse.ts with direction 'upload'), when it holds any. */
  upload?: { summary: AnalysisSummary; featured: Featured } | undefined;
}

export interface BuiltChart {
  option: Record<string, unknown>;
  width: number;
  height: number;
}

export interface ChartSpec {
  /** File name (charts/NAME.svg, charts/NAME.png) and HTML id. */
  name: string;
  /** What it shows, for the page when there is nothing to draw. */
  title: string;
  /** How to read it, for the page. */
  caption: string;
  /** null: no data for this chart (the page says so). */
  build(input: ChartInput): BuiltChart | null;
}
