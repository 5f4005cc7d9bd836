/**
 * Throughput over the window. Up to MAX_CLIENT_LINES clients get a coloured line each; beyond that
 * every result is a dot under a line of the median per time bucket. Congested results are drawn
 * red on top, failures as triangles on the axis, network-wide congestion is shaded, and a selected
 * client stands out.
 */
import { LineChart, type LineSeriesOption, ScatterChart, type ScatterSeriesOption } from 'echarts/charts';
import {
  DataZoomInsideComponent,
  type DataZoomComponentOption,
  GridComponent,
  type GridComponentOption,
  LegendScrollComponent,
  type LegendComponentOption,
  MarkAreaComponent,
  TooltipComponent,
  type TooltipComponentOption,
} from 'echarts/components';
import { type ComposeOption, type ECharts, format, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { median as medianSorted } from '../../analysis/stats.js';
import type { Point, Summary } from '../api-types.js';
import { congestedPoint, limitsByClient } from './degraded.js';
import { clock, mbps, ms } from './format.js';
import { COLORS, clientColors } from './palette.js';

use([
  LineChart,
  ScatterChart,
  GridComponent,
  TooltipComponent,
  LegendScrollComponent,
  MarkAreaComponent,
  DataZoomInsideComponent,
  CanvasRenderer,
]);

type Option = ComposeOption<
  LineSeriesOption | ScatterSeriesOption | GridComponentOption | TooltipComponentOption | LegendComponentOption | DataZoomComponentOption
>;
type Series = LineSeriesOption | ScatterSeriesOption;
/** [time, Mbit/s, client, response ms, 1 when failed] */
type Datum = [number, number, string, number | null, 0 | 1];

/** The median line (many-clients view) uses buckets this wide. */
const MEDIAN_BUCKET_MS = 15 * 60_000;

const tooltip = {
  formatter: (params: unknown) => {
    const [t, rate, client, responseMs, failed] = (params as { data: Datum }).data;
    return `<b>${format.encodeHTML(client)}</b><br>${clock(t)}<br>${failed === 1 ? 'failed' : mbps(rate)} · response ${ms(responseMs)}`;
  },
};

export class ThroughputChart {
  private readonly chart: ECharts;
  private points: Point[] = [];
  private summary: Summary | undefined;
  private selected: string | null = null;
  private pending = false;

  constructor(el: HTMLElement) {
    this.chart = init(el, undefined, { renderer: 'canvas' });
    this.chart.setOption(baseOption());
    new ResizeObserver(() => this.chart.resize()).observe(el);
  }

  setPoints(points: readonly Point[]): void {
    this.points = [...points];
    this.schedule();
  }

  addPoint(p: Point): void {
    if (!this.points.some((q) => q.id === p.id)) this.points.push(p);
    this.schedule();
  }

  setSummary(summary: Summary): void {
    this.summary = summary;
    const since = summary.atMs - summary.windowMs;
    this.points = this.points.filter((p) => p.t >= since);
    this.schedule();
  }

  select(client: string | null): void {
    this.selected = client;
    this.schedule();
  }

  /** Redraws at most once a frame however many results arrive. */
  private schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    const summary = this.summary;
    const now = Math.max(summary?.atMs ?? 0, Date.now());
    const windowMs = summary?.windowMs ?? 6 * 3_600_000;
    const limits = limitsByClient(summary);
    const colors = clientColors([...(summary?.clients.map((c) => c.client) ?? []), ...this.points.map((p) => p.client)]);
    const byClient = new Map<string, Datum[]>();
    const congested: Datum[] = [];
    const failed: Datum[] = [];
    const sorted = [...this.points].sort((a, b) => a.t - b.t);
    for (const p of sorted) {
      if (p.error !== null || p.mbps === null) {
        failed.push([p.t, 0, p.client, p.responseMs, 1]);
        continue;
      }
      const d: Datum = [p.t, p.mbps, p.client, p.responseMs, 0];
      let list = byClient.get(p.client);
      if (!list) byClient.set(p.client, (list = []));
      list.push(d);
      if (congestedPoint(p, limits.get(p.client))) congested.push(d);
    }
    const episodes = (summary?.episodes ?? []).filter((e) => e.client === null);
    const series: Series[] = colors.size > 0 ? this.lines(byClient, colors) : this.dots(byClient, now, windowMs);
    series.push(
      {
        name: 'congested',
        type: 'scatter',
        data: congested,
        symbolSize: 8,
        z: 4,
        tooltip,
        itemStyle: { color: COLORS.congested, borderColor: '#0d1117', borderWidth: 1 },
        markArea: {
          silent: true,
          itemStyle: { color: 'rgba(248, 81, 73, 0.13)' },
          label: { color: COLORS.congested, fontSize: 11, position: 'insideTop' },
          data: episodes.map((e) => [{ xAxis: e.fromMs, name: 'network congestion' }, { xAxis: e.toMs }]),
        },
      },
      {
        name: 'failed',
        type: 'scatter',
        data: failed,
        symbol: 'triangle',
        symbolSize: 9,
        z: 4,
        itemStyle: { color: COLORS.failed },
        tooltip,
      },
    );
    this.chart.setOption(
      { xAxis: { min: now - windowMs, max: now }, legend: { data: series.map((s) => String(s.name)) }, series },
      { replaceMerge: ['series'] },
    );
  }

  /** Few clients: a line each; the selected one bold, the others faded. */
  private lines(byClient: Map<string, Datum[]>, colors: Map<string, string>): Series[] {
    return [...colors].map(([client, color]) => {
      const dim = this.selected !== null && this.selected !== client;
      const bold = this.selected === client;
      return {
        name: client,
        type: 'line',
        data: byClient.get(client) ?? [],
        tooltip,
        z: bold ? 3 : 2,
        showSymbol: true,
        symbol: 'circle',
        symbolSize: bold ? 6 : 4,
        lineStyle: { width: bold ? 2.5 : 1.5, color, opacity: dim ? 0.2 : 0.9 },
        itemStyle: { color, opacity: dim ? 0.2 : 1 },
        emphasis: { focus: 'series' },
      } satisfies LineSeriesOption;
    });
  }

  /** Many clients: every result as a dot, the median line, and the selected client's line. */
  private dots(byClient: Map<string, Datum[]>, now: number, windowMs: number): Series[] {
    const all = [...byClient.values()].flat();
    return [
      {
        name: 'results',
        type: 'scatter',
        data: all,
        symbolSize: 4,
        itemStyle: { color: COLORS.dot, opacity: 0.5 },
        tooltip,
        large: all.length > 5000,
      },
      {
        name: 'median',
        type: 'line',
        data: bucketMedians(all, now, windowMs),
        showSymbol: false,
        connectNulls: true,
        smooth: 0.3,
        lineStyle: { width: 2, color: COLORS.median },
        itemStyle: { color: COLORS.median },
        tooltip: { show: false },
      },
      {
        name: this.selected ?? 'selected',
        type: 'line',
        data: this.selected ? (byClient.get(this.selected) ?? []) : [],
        tooltip,
        symbolSize: 5,
        lineStyle: { width: 2, color: COLORS.selected },
        itemStyle: { color: COLORS.selected },
        z: 3,
      },
    ];
  }
}

function baseOption(): Option {
  return {
    animation: false,
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    legend: {
      type: 'scroll',
      top: 0,
      left: 0,
      right: 0,
      textStyle: { color: COLORS.text },
      pageTextStyle: { color: COLORS.text },
      itemWidth: 14,
      itemHeight: 8,
      inactiveColor: '#484f58',
    },
    tooltip: { trigger: 'item', backgroundColor: '#161b22', borderColor: COLORS.axis, textStyle: { color: '#e6edf3', fontSize: 12 } },
    dataZoom: [{ type: 'inside', xAxisIndex: 0, filterMode: 'none' }],
    xAxis: {
      type: 'time',
      axisLine: { lineStyle: { color: COLORS.axis } },
      axisLabel: { color: COLORS.text, hideOverlap: true, formatter: { hour: '{HH}:{mm}', minute: '{HH}:{mm}', day: '{d} {MMM}' } },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: 0,
      axisLabel: { color: COLORS.text },
      splitLine: { lineStyle: { color: COLORS.grid } },
    },
  };
}

/** Median of each bucket's results; empty buckets are skipped (the line joins across them). */
function bucketMedians(data: readonly Datum[], nowMs: number, windowMs: number): [number, number][] {
  const start = nowMs - windowMs;
  const buckets = new Map<number, number[]>();
  for (const [t, rate] of data) {
    if (t < start) continue;
    const b = Math.floor((t - start) / MEDIAN_BUCKET_MS);
    let list = buckets.get(b);
    if (!list) buckets.set(b, (list = []));
    list.push(rate);
  }
  return [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([b, values]) => [start + (b + 0.5) * MEDIAN_BUCKET_MS, medianSorted(Float64Array.from(values).sort())!]);
}
