/** The report's charts, in the order the page shows them. */
import { BUFFERBLOAT } from './bufferbloat.js';
import { HEATMAP } from './heatmap.js';
import { HOURS } from './hours.js';
import { LATENCY } from './latency.js';
import { RESPONSIVENESS } from './responsiveness.js';
import { SMOKE } from './smoke.js';
import { THROUGHPUT, UPLOAD_THROUGHPUT } from './throughput.js';
import type { ChartSpec } from './types.js';

export type { BuiltChart, ChartInput, ChartSpec } from './types.js';

export const CHARTS: readonly ChartSpec[] = [THROUGHPUT, UPLOAD_THROUGHPUT, HOURS, HEATMAP, LATENCY, BUFFERBLOAT, RESPONSIVENESS, SMOKE];
