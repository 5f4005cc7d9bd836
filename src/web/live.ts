import type { StoredResult } from '../protocol/result.js';
import type { ActiveTransfer } from '../server/context.js';
import type { ServerView } from '../server/view.js';
import { type Direction, type LoadSnapshot, MAX_TRANSFER_ROWS, type Snapshot } from './api-types.js';
import type { ServerMetricsRegistry } from './metrics.js';
import type { EventStream } from './sse.js';
import { type DashboardState, toPoint } from './state.js';

/** Server load is pushed to open dashboards this often. */
const LOAD_INTERVAL_MS = 2_000;
/** The summary is pushed at most this often while results arrive… */
const SUMMARY_DEBOUNCE_MS = 1_000;
/** …and this often anyway (silent clients become silent without any event). */
const SUMMARY_INTERVAL_MS = 15_000;
/** The outbound rate shown is the mean over this many whole seconds. */
const OUTBOUND_SECONDS = 5;

/**
 * Feeds the dashboard from the server: each committed REPORT's new results go to the state, the
 * metrics and (as `result` events) every open page; the summary and the load follow on timers that
 * only write while someone is watching.
 */
export class LiveFeed {
  private readonly transfers = new Set<ActiveTransfer>();
  /** Receive times of the last minute's new results. */
  private recent: number[] = [];
  private summaryTimer: NodeJS.Timeout | undefined;
  private readonly timers: NodeJS.Timeout[];

  constructor(
    private readonly ctx: ServerView,
    private readonly state: DashboardState,
    private readonly stream: EventStream,
    private readonly metrics: ServerMetricsRegistry,
    /** The upload window (`summary-upload` events, `snapshot('upload')`); absent: downloads only. */
    private readonly uploadState?: DashboardState,
  ) {
    ctx.events.on('results', this.onResults);
    ctx.events.on('transferStart', this.onTransferStart);
    ctx.events.on('transferEnd', this.onTransferEnd);
    this.timers = [
      setInterval(() => this.watched() && this.stream.send('load', this.load()), LOAD_INTERVAL_MS),
      setInterval(() => this.watched() && this.sendSummaries(), SUMMARY_INTERVAL_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  private readonly onResults = (rows: StoredResult[]): void => {
    const uploads = this.state.newUploads(rows);
    const freshUploads = this.uploadState?.add(rows) ?? [];
    const fresh = this.state.add(rows);
    const freshIds = new Set(fresh.map((p) => p.id));
    const observed = rows.filter((r) => freshIds.has(r.id));
    if (observed.length + uploads.length > 0) this.metrics.observeResults([...observed, ...uploads]);
    // Uploads go to the feed only ('upload' events): the window and its rules judge downloads.
    for (const r of uploads) this.stream.send('upload', toPoint(r));
    if (fresh.length + freshUploads.length === 0) return;
    const now = this.ctx.now();
    for (const p of fresh) {
      this.recent.push(now);
      this.stream.send('result', p);
    }
    if (!this.watched()) return;
    this.summaryTimer ??= setTimeout(() => {
      this.summaryTimer = undefined;
      if (this.watched()) this.sendSummaries();
    }, SUMMARY_DEBOUNCE_MS).unref();
  };

  /** `summary` (the download window) and, with an upload window, `summary-upload`. */
  private sendSummaries(): void {
    this.stream.send('summary', this.state.summary());
    if (this.uploadState) this.stream.send('summary-upload', this.uploadState.summary());
  }

  /** Summaries and load are computed only while a dashboard is open. */
  private watched(): boolean {
    return this.stream.size > 0;
  }

  private readonly onTransferStart = (t: ActiveTransfer): void => {
    this.transfers.add(t);
  };

  private readonly onTransferEnd = (t: ActiveTransfer): void => {
    this.transfers.delete(t);
  };

  load(): LoadSnapshot {
    const { ctx } = this;
    const now = ctx.now();
    const cut = this.recent.findIndex((t) => t > now - 60_000);
    this.recent = cut < 0 ? [] : this.recent.slice(cut);
    const nowSecondMs = Math.floor(now / 1000) * 1000;
    const transfers = [...this.transfers]
      .sort((a, b) => a.startedAtMs - b.startedAtMs)
      .slice(0, MAX_TRANSFER_ROWS)
      .map(({ client, file, mode, startedAtMs, bytes }) => ({ client, file, mode, startedAtMs, bytes }));
    return {
      atMs: now,
      activeTransfers: ctx.load.active,
      maxConcurrentTransfers: ctx.config.maxConcurrentTransfers,
      openConnections: ctx.metrics.openConnections,
      outboundMbps: ctx.load.outboundMbps(nowSecondMs - OUTBOUND_SECONDS * 1000, nowSecondMs - 1),
      resultsPerMinute: this.recent.length,
      transfers,
      shuttingDown: ctx.shuttingDown,
    };
  }

  /** The page's first draw: the window of `direction` (default download). */
  snapshot(direction: Direction = 'download'): Snapshot {
    const state = direction === 'upload' && this.uploadState ? this.uploadState : this.state;
    return { serverId: this.ctx.serverId, summary: state.summary(), points: [...state.windowPoints()], load: this.load() };
  }

  close(): void {
    this.ctx.events.off('results', this.onResults);
    this.ctx.events.off('transferStart', this.onTransferStart);
    this.ctx.events.off('transferEnd', this.onTransferEnd);
    for (const t of this.timers) clearInterval(t);
    if (this.summaryTimer) clearTimeout(this.summaryTimer);
  }
}
