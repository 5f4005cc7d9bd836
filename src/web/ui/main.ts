/**
 * The dashboard page: draws a snapshot once, then follows the server's Server-Sent Events
 * (`result`, `upload`, `summary`, `summary-upload`, `load`); the direction selector picks which
 * window (download or upload) the chart, the client table, the busiest hour and the episodes show.
 * The session cookie set after `/?token=…` authenticates both.
 */
import './styles.css';
import type { Direction, LoadSnapshot, Point, Snapshot, Summary } from '../api-types.js';
import { ThroughputChart } from './chart.js';
import { limitsByClient } from './degraded.js';
import { byId } from './dom.js';
import { clientColors } from './palette.js';
import { prependFeed, renderAlerts, renderClients, renderFeed, renderKpis, renderRule, renderTransfers, setConnection } from './view.js';

/** Relative times ("12 s ago") are refreshed this often between events. */
const TICK_MS = 5_000;
/** A stream the browser gave up on is reopened after this long. */
const RETRY_MS = 5_000;

class Dashboard {
  /** The window shown (the selector): its points, summary, client table, busiest hour and episodes. */
  direction: Direction = 'download';
  private summary!: Summary;
  private load!: LoadSnapshot;
  private points: Point[] = [];
  private selected: string | null = null;
  private readonly chart = new ThroughputChart(byId('chart'));

  apply(snapshot: Snapshot): void {
    if (snapshot.summary.direction !== this.direction) return; // a snapshot asked for before the selector changed
    byId('server-id').textContent = snapshot.serverId;
    document.title = `netprobe · ${snapshot.serverId}`;
    this.points = snapshot.points;
    this.summary = snapshot.summary;
    this.load = snapshot.load;
    this.chart.setPoints(this.points);
    this.chart.setSummary(this.summary);
    renderFeed(this.points, this.summary);
    this.render();
  }

  /** A new result of either direction: the feed shows both, the window only its own. */
  onResult(p: Point): void {
    if ((p.direction ?? 'download') !== this.direction) {
      prependFeed(p, undefined);
      return;
    }
    if (this.points.some((q) => q.id === p.id)) return;
    this.points.push(p);
    this.chart.addPoint(p);
    prependFeed(p, limitsByClient(this.summary).get(p.client));
    // The client's row shows the new result now; its status follows with the next summary.
    const row = this.summary.clients.find((c) => c.client === p.client);
    if (row && p.t >= row.lastStartedMs) {
      Object.assign(row, {
        lastStartedMs: p.t,
        lastSeenMs: Date.now(),
        lastMbps: p.mbps,
        lastResponseMs: p.responseMs,
        lastDownloadMs: p.downloadMs,
        lastError: p.error,
      });
      this.render();
    }
  }

  onSummary(summary: Summary): void {
    if (summary.direction !== this.direction) return;
    this.summary = summary;
    const since = summary.atMs - summary.windowMs;
    this.points = this.points.filter((p) => p.t >= since);
    this.chart.setSummary(summary);
    this.render();
  }

  onLoad(load: LoadSnapshot): void {
    this.load = load;
    renderKpis(this.summary, load, this.points.length);
    renderTransfers(load);
  }

  private select = (client: string): void => {
    this.selected = this.selected === client ? null : client;
    this.chart.select(this.selected);
    byId('chart-hint').textContent = this.selected
      ? `highlighted: ${this.selected} (click the row again to clear)`
      : 'click a client to highlight it';
    this.render();
  };

  render(): void {
    const now = Date.now();
    renderKpis(this.summary, this.load, this.points.length);
    renderAlerts(this.summary.alerts, now);
    renderRule(this.summary);
    renderClients(
      this.summary.clients,
      limitsByClient(this.summary),
      now,
      this.selected,
      clientColors(this.summary.clients.map((c) => c.client)),
      this.select,
    );
    renderTransfers(this.load);
  }
}

async function fetchSnapshot(direction: Direction): Promise<Snapshot | 'unauthorized'> {
  const res = await fetch(`/api/snapshot?direction=${direction}`, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (res.status === 401) return 'unauthorized';
  if (!res.ok) throw new Error(`snapshot: HTTP ${res.status}`);
  return (await res.json()) as Snapshot;
}

function signedOut(): void {
  setConnection('offline', 'signed out');
  const box = byId('alerts');
  box.hidden = false;
  box.textContent =
    'This page is no longer signed in (the server restarted with a new token, or the browser session ended). Open the dashboard URL with ?token=… from the server log.';
  box.className = 'alerts signed-out';
}

/**
 * Follows /api/events. The browser reconnects a broken stream by itself; a stream it gave up on
 * (HTTP error, e.g. 401 after a restart with a new token) is reopened here unless signed out.
 * After any break a fresh snapshot catches up on what was missed.
 */
function follow(dashboard: Dashboard): void {
  const events = new EventSource('/api/events');
  let broken = false;
  const catchUp = () =>
    fetchSnapshot(dashboard.direction).then(
      (s) => {
        if (s === 'unauthorized') return signedOut();
        dashboard.apply(s);
        return undefined;
      },
      () => setConnection('offline', 'server unreachable'),
    );
  events.addEventListener('open', () => {
    setConnection('live', 'live');
    if (broken) void catchUp();
    broken = false;
  });
  events.addEventListener('error', () => {
    broken = true;
    if (events.readyState !== EventSource.CLOSED) return setConnection('connecting', 'reconnecting…');
    setConnection('offline', 'disconnected');
    void fetchSnapshot(dashboard.direction).then(
      (s) => (s === 'unauthorized' ? signedOut() : setTimeout(() => follow(dashboard), RETRY_MS)),
      () => setTimeout(() => follow(dashboard), RETRY_MS),
    );
  });
  const on = <T>(name: string, handle: (data: T) => void) =>
    events.addEventListener(name, (e) => handle(JSON.parse((e as MessageEvent<string>).data) as T));
  on<Point>('result', (p) => dashboard.onResult(p));
  on<Point>('upload', (p) => dashboard.onResult(p));
  on<Summary>('summary', (s) => dashboard.onSummary(s));
  on<Summary>('summary-upload', (s) => dashboard.onSummary(s));
  on<LoadSnapshot>('load', (l) => dashboard.onLoad(l));
}

async function main(): Promise<void> {
  const dashboard = new Dashboard();
  const first = await fetchSnapshot(dashboard.direction);
  if (first === 'unauthorized') return signedOut();
  dashboard.apply(first);
  follow(dashboard);
  const selector = byId('direction') as HTMLSelectElement;
  selector.addEventListener('change', () => {
    dashboard.direction = selector.value === 'upload' ? 'upload' : 'download';
    void fetchSnapshot(dashboard.direction).then(
      (s) => (s === 'unauthorized' ? signedOut() : dashboard.apply(s)),
      () => setConnection('offline', 'server unreachable'),
    );
  });
  setInterval(() => dashboard.render(), TICK_MS);
}

main().catch((err: unknown) => {
  setConnection('offline', 'error');
  console.error(err);
});
