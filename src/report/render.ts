/**
 * Chart rendering: an ECharts option → SVG text (ECharts' server-side SVG renderer, no DOM) → PNG
 * (resvg). Both use the DejaVu Sans files shipped in assets/fonts: resvg draws with them (system
 * fonts are not loaded, so every machine renders the same pixels) and ECharts measures text with
 * their advance widths, so layout matches what is drawn.
 */
import { readFileSync } from 'node:fs';
import { type ResvgRenderOptions, renderAsync } from '@resvg/resvg-js';
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  GraphicComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  VisualMapComponent,
} from 'echarts/components';
import { type EChartsCoreOption, init, setPlatformAPI, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { type FontMetrics, readFontMetrics } from './font-metrics.js';
import { FONT_FILES } from './font.js';

use([
  BarChart,
  HeatmapChart,
  LineChart,
  ScatterChart,
  GraphicComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  VisualMapComponent,
  SVGRenderer,
]);

const DEFAULT_SIZE_PX = 12;
let metrics: { regular: FontMetrics; bold: FontMetrics } | undefined;

/** Makes ECharts measure text with the shipped font's widths (once per process). */
function useFontMetrics(): void {
  if (metrics) return;
  const loaded = { regular: readFontMetrics(readFileSync(FONT_FILES.regular)), bold: readFontMetrics(readFileSync(FONT_FILES.bold)) };
  metrics = loaded;
  setPlatformAPI({
    measureText(text: string, font?: string) {
      const size = /(\d+(?:\.\d+)?)px/.exec(font ?? '');
      const bold = /\b(bold|bolder|[6-9]00)\b/.test(font ?? '');
      return { width: (bold ? loaded.bold : loaded.regular).width(text ?? '', size ? Number(size[1]) : DEFAULT_SIZE_PX) };
    },
  });
}

export interface ChartSize {
  width: number;
  height: number;
}

/** The option as a standalone SVG document (ECharts escapes the text it writes). */
export function renderSvg(option: EChartsCoreOption, size: ChartSize): string {
  useFontMetrics();
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: size.width, height: size.height });
  try {
    // A static image: no animation, no hover states (they would add :hover CSS to the SVG).
    const series = (option.series as Record<string, unknown>[] | undefined)?.map((s) => ({
      silent: true,
      emphasis: { disabled: true },
      ...s,
    }));
    chart.setOption({ animation: false, ...option, ...(series && { series }) });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

function pngOptions(scale: number): ResvgRenderOptions {
  return {
    font: { fontFiles: [FONT_FILES.regular, FONT_FILES.bold], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    shapeRendering: 2,
    textRendering: 1,
  };
}

/** An SVG document as PNG, `scale` × its size, on white; rasterised on libuv's thread pool, off this thread. */
export async function renderPng(svg: string, scale: number): Promise<Buffer> {
  return (await renderAsync(svg, pngOptions(scale))).asPng();
}
