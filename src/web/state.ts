import { type StoredResult, directionOf } from '../protocol/result.js';
import type { AnalysisSource } from '../store/types.js';
import type { Direction, Point, Summary } from './api-types.js';
import { type ClientMeta, type SummaryOptions, buildSummary } from './summary.js';

/** What the chart can show at most; the oldest results are dropped first. */
export const MAX_POINTS = 50_000;

export function toPoint(r: StoredResult): Point {
  return {
    id: r.id,
    client: r.client,
    t: Date.parse(r.startedAt),
    mbps: r.error === null ? r.throughputMbps : null,
    responseMs: r.responseMs,
    downloadMs: r.error === null ? r.downloadMs : null,
    error: r.error?.code ?? null,
    rpm: r.error === null ? (r.rpm ?? null) : null,
    ...(directionOf(r) === 'upload' ? { direction: 'upload' as const } : {}),
  };
}

/**
 * The results of one direction (`options.direction`, default download) of the last `windowMs` in
 * memory (loaded from the store at start, then fed by the server's 'results' events), plus what is
 * known of every client seen since in that direction. The dashboard keeps one per direction.
 */
export class DashboardState {
  /** In start-time order. */
  private points: Point[] = [];
  private readonly ids = new Set<string>();
  private readonly uploadIds = new Set<string>();
  private readonly metas = new Map<string, ClientMeta>();

  constructor(
    readonly windowMs: number,
    private readonly now: () => number,
    private readonly options: SummaryOptions = {},
  ) {}

  windowStartMs(): number {
    return this.now() - this.windowMs;
  }

  get direction(): Direction {
    return this.options.direction ?? 'download';
  }

  /** Reads the window's results from the store (paged; bounded by MAX_POINTS). */
  async load(store: Pick<AnalysisSource, 'iterateResults'>): Promise<void> {
    await loadWindows(store, [this]);
  }

  /**
   * Uploads among `rows` not seen before (the last MAX_POINTS upload ids are remembered): they are
   * not in the download window, but /metrics counts each stored upload once, as it does downloads.
   */
  newUploads(rows: readonly StoredResult[]): StoredResult[] {
    const fresh: StoredResult[] = [];
    for (const r of rows) {
      if (directionOf(r) !== 'upload' || this.uploadIds.has(r.id)) continue;
      this.uploadIds.add(r.id);
      if (this.uploadIds.size > MAX_POINTS) this.uploadIds.delete(this.uploadIds.values().next().value!);
      fresh.push(r);
    }
    return fresh;
  }

  /** Adds results (ids already known are ignored); returns the new points. */
  add(rows: readonly StoredResult[]): Point[] {
    const fresh: Point[] = [];
    for (const r of rows) {
      // A window judges one direction (as analyse does): uploads and downloads are never mixed.
      if (this.ids.has(r.id) || directionOf(r) !== this.direction) continue;
      const p = toPoint(r);
      this.ids.add(p.id);
      fresh.push(p);
      this.remember(p, Date.parse(r.receivedAt));
    }
    if (fresh.length === 0) return fresh;
    const last = this.points.at(-1);
    this.points.push(...fresh);
    // Results mostly arrive in order; an outbox replay of old ones needs a sort.
    if ((last && fresh[0]!.t < last.t) || fresh.some((p, i) => i > 0 && p.t < fresh[i - 1]!.t)) this.points.sort((a, b) => a.t - b.t);
    this.prune();
    return fresh;
  }

  private remember(p: Point, receivedAtMs: number): void {
    const meta = this.metas.get(p.client);
    if (!meta) {
      this.metas.set(p.client, {
        lastSeenMs: receivedAtMs,
        lastStartedMs: p.t,
        lastMbps: p.mbps,
        lastResponseMs: p.responseMs,
        lastDownloadMs: p.downloadMs,
        lastError: p.error,
      });
      return;
    }
    meta.lastSeenMs = Math.max(meta.lastSeenMs, receivedAtMs);
    if (p.t >= meta.lastStartedMs) {
      Object.assign(meta, {
        lastStartedMs: p.t,
        lastMbps: p.mbps,
        lastResponseMs: p.responseMs,
        lastDownloadMs: p.downloadMs,
        lastError: p.error,
      });
    }
  }

  private prune(): void {
    const since = this.now() - this.windowMs;
    let drop = 0;
    while (drop < this.points.length && (this.points[drop]!.t < since || this.points.length - drop > MAX_POINTS)) drop++;
    if (drop === 0) return;
    for (const p of this.points.slice(0, drop)) this.ids.delete(p.id);
    this.points = this.points.slice(drop);
  }

  /** The window's results, oldest first. */
  windowPoints(): readonly Point[] {
    this.prune();
    return this.points;
  }

  /** Every client seen since start (or in the window loaded at start). */
  clients(): ReadonlyMap<string, ClientMeta> {
    return this.metas;
  }

  /** The analyser's rules over the window; when MAX_POINTS cut it short, the window starts at the oldest result kept. */
  summary(): Summary {
    const points = this.windowPoints();
    const capped = points.length >= MAX_POINTS ? { fromMs: points[0]!.t } : {};
    return buildSummary(points, this.metas, this.now(), this.windowMs, { ...this.options, ...capped });
  }
}

/** Fills several windows (one per direction, the same length) with one pass over the store. */
export async function loadWindows(store: Pick<AnalysisSource, 'iterateResults'>, states: readonly DashboardState[]): Promise<void> {
  const since = Math.min(...states.map((s) => s.windowStartMs()));
  const loaded = new Map(states.map((s) => [s, [] as StoredResult[]]));
  for await (const r of store.iterateResults({ sinceMs: since })) {
    for (const [state, rows] of loaded) {
      if (directionOf(r) !== state.direction) continue;
      rows.push(r);
      if (rows.length >= 2 * MAX_POINTS) rows.splice(0, rows.length - MAX_POINTS);
    }
  }
  for (const [state, rows] of loaded) state.add(rows);
}
