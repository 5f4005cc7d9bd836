/** Renders the dashboard's panels from the API's data (the chart lives in chart.ts). */
import type { DegradedLimits } from '../../analysis/degraded.js';
import type { Alert, ClientRow, ClientStatus, LoadSnapshot, Point, Summary } from '../api-types.js';
import { congestedPoint, congestedRow, limitsByClient } from './degraded.js';
import { byId, h } from './dom.js';
import { ago, bytes, clock, duration, hourOfDay, mbps, ms, percent, rate } from './format.js';

const STATUS_LABEL: Record<ClientStatus, string> = { ok: 'ok', congested: 'congested', failing: 'failing', silent: 'silent' };
/** Entries kept in the live feed. */
const FEED_LENGTH = 40;

function badge(status: ClientStatus | 'failed' | 'upload'): HTMLElement {
  return h('span', { class: `badge ${status}` }, status === 'failed' || status === 'upload' ? status : STATUS_LABEL[status]);
}

function swatch(color: string | undefined): HTMLElement | null {
  if (!color) return null;
  const el = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  el.style.background = color;
  return el;
}

function kpi(label: string, value: string, sub: string, tone = ''): HTMLElement {
  return h(
    'div',
    { class: `kpi ${tone}` },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: 'kpi-value' }, value),
    h('div', { class: 'kpi-sub' }, sub),
  );
}

export function renderKpis(summary: Summary, load: LoadSnapshot, points: number): void {
  const counts = new Map<ClientStatus, number>();
  for (const c of summary.clients) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  const problems = (['silent', 'failing', 'congested'] as const).filter((s) => counts.get(s)).map((s) => `${counts.get(s)} ${s}`);
  const busiest = summary.busiestHour;
  const congested = summary.mostCongestedHour;
  const zone = summary.window.timeZone;
  const low = summary.thresholds.degradedThroughputFraction;
  const load01 = load.maxConcurrentTransfers > 0 ? load.activeTransfers / load.maxConcurrentTransfers : 0;
  byId('kpis').replaceChildren(
    kpi('Clients', String(summary.clients.length), problems.length ? problems.join(' · ') : 'all ok', problems.length ? 'warn' : 'good'),
    kpi(
      'Throughput vs baseline',
      percent(summary.recentRatio),
      summary.recentRatio === null ? 'no result in 30 min' : 'last 30 min, of each client’s baseline',
      summary.recentRatio !== null && summary.recentRatio < low
        ? 'bad'
        : summary.recentRatio !== null && summary.recentRatio < 0.8
          ? 'warn'
          : '',
    ),
    kpi(
      'Results / min',
      String(load.resultsPerMinute),
      `${points} in ${Math.round(summary.windowMs / 3_600_000)} h · ${load.openConnections} connected`,
    ),
    kpi(
      'Transfers now',
      `${load.activeTransfers} / ${load.maxConcurrentTransfers}`,
      load01 >= 0.8 ? 'near the BUSY limit' : 'concurrent / limit',
      load01 >= 0.8 ? 'warn' : '',
    ),
    kpi('Server outbound', mbps(load.outboundMbps), 'last 5 s'),
    busiest.hour !== null
      ? kpi('Busiest hour', hourOfDay(busiest.hour), `${zone} · ${busiest.downloads} downloads · ${busiest.confidence} confidence`)
      : kpi('Busiest hour', '–', busiest.reason),
    congested.hour !== null
      ? kpi(
          'Most congested hour',
          hourOfDay(congested.hour),
          `${zone} · ${percent(congested.relativeThroughput)} of baseline · ${congested.confidence} confidence`,
          congested.confidence === 'high' ? 'bad' : '',
        )
      : kpi('Most congested hour', '–', congested.reason),
  );
}

/** The footer names the window and the rule behind every congestion mark (the analyser's, with its thresholds). */
export function renderRule(summary: Summary): void {
  const t = summary.thresholds;
  const w = summary.window;
  byId('rule').textContent =
    `Rules of netprobe analyse over ${clock(w.fromMs)}–${clock(w.toMs)} (hours in ${w.timeZone}): a result is degraded below ` +
    `${percent(t.degradedThroughputFraction)} of its client's baseline (p${Math.round(t.baselinePercentile * 100)} of its throughput, ` +
    `${t.minBaselineSamples}+ results) or above ${t.degradedLatencyFactor}× its usual download time, or when it failed; an episode is ` +
    `${t.minEpisodeMeasurements}+ degraded results in a row over ${Math.round(t.minEpisodeMs / 60_000)}+ min; network-wide when ` +
    `${t.minNetworkClients}+ clients and ${percent(t.networkShare)} of those active are in one together.`;
}

export function renderAlerts(alerts: readonly Alert[], nowMs: number): void {
  const box = byId('alerts');
  box.hidden = alerts.length === 0;
  box.replaceChildren(
    ...alerts.map((a) =>
      h(
        'div',
        { class: `alert ${a.severity}`, role: 'status' },
        h('span', { class: 'alert-kind' }, a.kind.replace('-', ' ')),
        h('span', { class: 'alert-text' }, a.message),
        h('span', { class: 'alert-since' }, `since ${clock(a.sinceMs)} (${ago(a.sinceMs, nowMs)})`),
      ),
    ),
  );
}

export function renderClients(
  rows: readonly ClientRow[],
  limits: ReadonlyMap<string, DegradedLimits>,
  nowMs: number,
  selected: string | null,
  colors: ReadonlyMap<string, string>,
  onSelect: (client: string) => void,
): void {
  const body = byId('clients-body');
  if (rows.length === 0) {
    body.replaceChildren(
      h('tr', {}, h('td', { colspan: '8', class: 'empty' }, 'No results yet: clients appear here with their first report.')),
    );
    return;
  }
  body.replaceChildren(
    ...rows.map((c) => {
      const tr = h(
        'tr',
        { class: c.client === selected ? 'selected' : undefined, 'data-client': c.client, tabindex: '0' },
        h('td', {}, badge(c.status)),
        h('td', { class: 'name' }, swatch(colors.get(c.client)), c.client),
        h(
          'td',
          {
            class: 'when',
            title: `measured ${new Date(c.lastStartedMs).toLocaleString()}, received ${new Date(c.lastSeenMs).toLocaleString()}`,
          },
          ago(c.lastStartedMs, nowMs),
        ),
        h(
          'td',
          { class: `num ${congestedRow(c, limits.get(c.client)) ? 'low' : ''}` },
          c.lastError ? c.lastError.replace(/^NETPROBE_/, '') : rate(c.lastMbps),
        ),
        h('td', { class: 'num' }, rate(c.medianMbps)),
        h('td', { class: 'num wide' }, ms(c.lastResponseMs)),
        h('td', { class: 'num wide' }, c.failures ? `${c.results} (${c.failures} failed)` : String(c.results)),
        h('td', { class: 'num wide' }, String(c.episodes)),
      );
      tr.addEventListener('click', () => onSelect(c.client));
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') onSelect(c.client);
      });
      return tr;
    }),
  );
}

export function renderTransfers(load: LoadSnapshot): void {
  const body = byId('transfers-body');
  byId('transfers-hint').textContent =
    load.activeTransfers > load.transfers.length ? `showing ${load.transfers.length} of ${load.activeTransfers}` : '';
  if (load.transfers.length === 0) {
    body.replaceChildren(h('tr', {}, h('td', { colspan: '5', class: 'empty' }, 'No transfer running.')));
    return;
  }
  body.replaceChildren(
    ...load.transfers.map((t) => {
      const elapsedMs = Math.max(1, load.atMs - t.startedAtMs);
      return h(
        'tr',
        {},
        h('td', { class: 'name' }, t.client),
        h('td', {}, `${t.file} · ${t.mode}`),
        h('td', { class: 'num' }, duration(elapsedMs)),
        h('td', { class: 'num' }, bytes(t.bytes)),
        h('td', { class: 'num' }, mbps((t.bytes * 8) / (elapsedMs * 1000))),
      );
    }),
  );
}

/** A result as one line of the live feed; `limits` are its client's, for the congestion mark. */
function feedItem(p: Point, limits: DegradedLimits | undefined, fresh: boolean): HTMLElement {
  const congested = congestedPoint(p, limits);
  const status = p.error !== null ? 'failed' : congested ? 'congested' : 'ok';
  const upload = p.direction === 'upload';
  return h(
    'li',
    { class: fresh ? 'new' : undefined, 'data-id': p.id, 'data-direction': upload ? 'upload' : 'download' },
    h('span', { class: 'feed-time' }, clock(p.t)),
    h('span', { class: 'name' }, upload ? `${p.client} ↑` : p.client),
    h('span', { class: 'num' }, p.error !== null ? p.error.replace(/^NETPROBE_/, '') : mbps(p.mbps)),
    h('span', { class: 'num feed-rt' }, ms(p.responseMs)),
    h(
      'span',
      { class: 'num feed-rpm', title: 'responsiveness: round trips per minute under load' },
      p.rpm === null || p.rpm === undefined ? '–' : `${p.rpm} RPM`,
    ),
    // An upload is not judged by the window's rules (they are the downloads').
    upload ? badge('upload') : badge(status),
  );
}

export function renderFeed(points: readonly Point[], summary: Summary): void {
  const limits = limitsByClient(summary);
  const latest = [...points].sort((a, b) => b.t - a.t).slice(0, FEED_LENGTH);
  byId('feed').replaceChildren(...latest.map((p) => feedItem(p, limits.get(p.client), false)));
  byId('feed-empty').hidden = latest.length > 0;
}

export function prependFeed(p: Point, limits: DegradedLimits | undefined): void {
  const feed = byId('feed');
  feed.prepend(feedItem(p, limits, true));
  while (feed.children.length > FEED_LENGTH) feed.lastElementChild?.remove();
  byId('feed-empty').hidden = true;
}

export function setConnection(state: 'live' | 'connecting' | 'offline', text: string): void {
  const el = byId('conn');
  el.className = `conn ${state}`;
  byId('conn-text').textContent = text;
}
