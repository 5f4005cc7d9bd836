/**
 * The sections of the report page: header, headline findings (busiest hour, most congested hour,
 * worst clients, network-wide episodes), other findings, the per-client table. Pure: summary in,
 * escaped markup out. Data attributes carry the raw values the page shows (tests read them).
 */
import type { AnalysisSummary, Confidence, LikelyCause, NetworkEpisode } from '../analysis/types.js';
import { type Safe, html } from './html.js';
import { rankClients, worstClients } from './select.js';
import { bytes, count, duration, hourRange, localTime, ms, num, percent, plural, shortTime } from './text.js';

const CAUSES: Record<LikelyCause, string> = {
  'server-load': 'server load',
  'server-or-shared-path': 'the server or a shared path',
  'client-path': "the client's own path",
  unknown: 'unknown',
};

function confidence(c: Confidence): Safe {
  const label = c === 'insufficient-data' ? 'not enough data' : `${c} confidence`;
  return html`<span class="badge ${c === 'high' ? 'high' : 'low'}">${label}</span>`;
}

export function header(s: AnalysisSummary, generatedAt: string): Safe {
  const zone = s.window.timeZone;
  const from = s.window.since ?? s.window.firstResult;
  const to = s.window.until ?? s.window.lastResult;
  const span =
    from !== null && to !== null
      ? `${localTime(from, zone, true)} to ${localTime(to, zone, true)}`
      : from !== null
        ? `from ${localTime(from, zone, true)}`
        : to !== null
          ? `until ${localTime(to, zone, true)}`
          : 'No results';
  const t = s.totals;
  return html`<header class="top">
    <h1><span class="brand">netprobe</span> network report</h1>
    <p class="meta">
      ${span} · times in ${zone}${s.window.clients.length > 0 ? ` · clients: ${s.window.clients.join(', ')}` : ''} · generated
      ${localTime(generatedAt, zone, true)}
    </p>
    <div class="totals" id="totals" data-downloads="${t.downloads}" data-clients="${t.clients}">
      <div><b>${count(t.clients)}</b><span>clients</span></div>
      <div><b>${count(t.downloads)}</b><span>downloads</span></div>
      <div><b>${percent(t.failureRate, 1)}</b><span>failed</span></div>
      <div><b>${bytes(t.bytes)}</b><span>transferred</span></div>
    </div>
  </header>`;
}

function busiestCard(s: AnalysisSummary): Safe {
  const b = s.busiestHour;
  const body =
    b.hour === null
      ? html`<p class="none">Not named</p>`
      : html`<p class="big">${hourRange(b.hour)}</p>
          <p>
            ${plural(b.downloads ?? 0, 'download')}, ${percent(b.share, 1)} of
            all${b.runnerUp ? ` (next: ${hourRange(b.runnerUp.hour)} with ${count(b.runnerUp.downloads)})` : ''}
          </p>`;
  return html`<div class="card" id="busiest-hour" data-hour="${b.hour ?? ''}" data-confidence="${b.confidence}">
    <h3>Busiest hour</h3>
    ${body}
    <p>${confidence(b.confidence)} ${b.reason}</p>
  </div>`;
}

function congestedCard(s: AnalysisSummary): Safe {
  const c = s.mostCongestedHour;
  const body =
    c.hour === null
      ? html`<p class="none">Not named</p>`
      : html`<p class="big">${hourRange(c.hour)}</p>
          <p>
            Clients got ${percent(c.relativeThroughput)} of their usual throughput, against ${percent(c.typicalRelativeThroughput)} in a
            typical hour (${percent(c.drop)} less).
          </p>`;
  return html`<div class="card congested" id="most-congested-hour" data-hour="${c.hour ?? ''}" data-confidence="${c.confidence}">
    <h3>Most congested hour</h3>
    ${body}
    <p>${confidence(c.confidence)} ${c.reason}</p>
  </div>`;
}

function worstCard(s: AnalysisSummary): Safe {
  const worst = worstClients(s, 5);
  const byName = new Map(s.clients.map((c) => [c.client, c]));
  const items = worst.map((w) => {
    const c = byName.get(w.client)!;
    const parts = [
      w.episodes > 0 ? `${plural(w.episodes, 'congestion episode')} (${duration(w.episodeMs)})` : null,
      c.downloads.failed > 0 ? `${percent(c.downloads.failureRate, 1)} failed` : null,
      c.schedule.silent ? `silent for ${duration(c.schedule.silentForMs)}` : null,
      w.relativeMedian !== null ? `median ${percent(w.relativeMedian)} of its usual speed` : null,
    ].filter((p) => p !== null);
    return html`<li data-client="${w.client}"><b>${w.client}</b>: ${parts.join(', ')}</li>`;
  });
  const body =
    items.length === 0
      ? html`<p class="none">None</p>
          <p>No client had a congestion episode, a failure rate of ${percent(s.thresholds.highFailureRate)} or more, or went silent.</p>`
      : html`<ol>
          ${items}
        </ol>`;
  return html`<div class="card worst" id="worst-clients" data-count="${worst.length}">
    <h3>Worst clients</h3>
    ${body}
  </div>`;
}

function networkItem(e: NetworkEpisode, zone: string): Safe {
  const share = `${e.peakClients} clients at once (${percent(e.peakShare)} of those active)`;
  return html`<li data-start="${e.start}">
    <b>${shortTime(e.start, zone)}</b>, ${duration(e.durationMs)}: ${share}; likely cause: ${CAUSES[e.likelyCause]}
  </li>`;
}

function networkCard(s: AnalysisSummary): Safe {
  const episodes = s.networkEpisodes;
  const shown = [...episodes].sort((a, b) => b.durationMs * b.severity - a.durationMs * a.severity).slice(0, 4);
  shown.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const body =
    episodes.length === 0
      ? html`<p class="none">None</p>
          <p>
            No time when ${s.thresholds.minNetworkClients} or more clients, and ${percent(s.thresholds.networkShare)} of those active, were
            congested together.
          </p>`
      : html`<p class="big">${episodes.length}</p>
          <p>Times when many clients were congested together: the server or a shared link, not one access line.</p>
          <ul>
            ${shown.map((e) => networkItem(e, s.window.timeZone))}
          </ul>
          ${episodes.length > shown.length ? html`<p>and ${episodes.length - shown.length} more (summary.json).</p>` : ''}`;
  return html`<div class="card network" id="network-episodes" data-count="${episodes.length}">
    <h3>Network-wide episodes</h3>
    ${body}
  </div>`;
}

export function headline(s: AnalysisSummary): Safe {
  return html`<section id="headline">
    <h2>Headline findings</h2>
    <div class="cards">${busiestCard(s)}${congestedCard(s)}${worstCard(s)}${networkCard(s)}</div>
  </section>`;
}

const FINDINGS_SHOWN = 40;

export function findings(s: AnalysisSummary): Safe {
  if (s.findings.length === 0) return html``;
  const items = s.findings.slice(0, FINDINGS_SHOWN).map((f) => html`<li><span class="kind">${f.kind}</span>${f.message}</li>`);
  const more = s.findings.length > FINDINGS_SHOWN ? html`<li>and ${s.findings.length - FINDINGS_SHOWN} more in summary.json</li>` : '';
  return html`<details id="findings" ${s.findings.length <= 12 ? html` open` : ''}>
    <summary>${plural(s.findings.length, 'finding')}: silences, gaps, failures, level changes</summary>
    <ul class="findings">
      ${items}${more}
    </ul>
  </details>`;
}

export function clientTable(s: AnalysisSummary): Safe {
  const byName = new Map(s.clients.map((c) => [c.client, c]));
  const rows = rankClients(s).map((r) => {
    const c = byName.get(r.client)!;
    const t = c.throughputMbps;
    const trend = c.trend?.slopeFractionPerDay ?? null;
    const schedule = c.schedule.silent
      ? 'silent'
      : c.schedule.gaps > 0
        ? `${plural(c.schedule.gaps, 'gap')}`
        : c.schedule.expectedIntervalMs === null
          ? '–'
          : `every ${duration(c.schedule.expectedIntervalMs)}`;
    return html`<tr data-client="${c.client}"${r.troubled ? html` class="troubled"` : ''}>
<td class="name" title="${c.client}">${c.client}</td><td>${count(c.downloads.total)}</td>
<td${c.downloads.failureRate >= s.thresholds.highFailureRate ? html` class="bad"` : ''}>${percent(c.downloads.failureRate, 1)}</td>
<td>${num(t.median)} <span class="dim">(${num(t.p5)}–${num(t.p95)})</span></td><td>${num(c.baseline.throughputMbps)}</td>
<td>${ms(c.latencyMs.p95)}</td><td>${ms(c.responseMs.p95)}</td><td>${ms(c.rttMs.idle)} <span class="dim">→</span> ${ms(c.rttMs.loaded)}</td>
<td>${c.rttMs.bufferbloat === null ? '–' : `${c.rttMs.bufferbloat >= 0 ? '+' : '−'}${ms(Math.abs(c.rttMs.bufferbloat))}`}</td>
<td>${c.tcp.results === 0 ? '–' : html`${ms(c.tcp.rttMs)} <span class="dim">·</span> ${count(c.tcp.retransmits ?? 0)}`}</td>
<td${c.episodes > 0 ? html` class="bad"` : ''}>${c.episodes}</td><td${c.schedule.silent ? html` class="bad"` : ''}>${schedule}</td>
<td>${trend === null ? '–' : `${trend >= 0 ? '+' : '−'}${percent(Math.abs(trend), 1)}`}</td></tr>`;
  });
  return html`<section id="clients">
    <h2>Clients</h2>
    <p class="meta">
      Worst first (time in congestion episodes, then failures); a red dot marks a client in the headline's sense of trouble. Throughput in
      Mbit/s; baseline = the client's p90. TCP: the sending TCP's own RTT under load (mean, from its kernel) and the segments it
      retransmitted, from results measured with netprobe's <code>tcp-info</code>; – for older ones.
    </p>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th class="name">client</th>
            <th>downloads</th>
            <th>failed</th>
            <th>throughput<small>median (p5–p95), Mbit/s</small></th>
            <th>baseline<small>Mbit/s</small></th>
            <th>latency<small>p95</small></th>
            <th>response<small>p95</small></th>
            <th>RTT<small>idle → loaded</small></th>
            <th>bufferbloat<small>mean</small></th>
            <th>TCP<small>sender RTT · retransmits</small></th>
            <th>episodes</th>
            <th>schedule</th>
            <th>trend<small>per day</small></th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
    </div>
  </section>`;
}
