/**
 * The summary as terminal tables for people. Times are shown in the analysis time zone with their
 * offset; numbers come from the summary (already rounded) with fewer decimals. Pure: summary in,
 * text out. The series are too long for a terminal: --json or --csv series has them.
 */
import { formatDuration } from './round.js';
import { offsetAt } from './timezone.js';
import type { AnalysisSummary, ServerLoadVerdict } from './types.js';
import { formatBytes as bytes } from '../units.js';

type Align = 'l' | 'r';

/**
 * Text from the store (client names are certificate CNs, messages come from clients) made safe for a
 * terminal: control characters and bidirectional overrides become \\xNN or \\u{NNNN}, so a name
 * cannot move the cursor, clear the screen or reorder what is printed after it.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\\]/g, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

export function renderTable(headers: readonly string[], rawRows: readonly (readonly string[])[], align?: readonly Align[]): string {
  const rows = rawRows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const dash = '-';
const fixed = (x: number | null, digits: number): string => (x === null ? dash : x.toFixed(digits));
const percent = (x: number | null, digits = 1): string => (x === null ? dash : `${(x * 100).toFixed(digits)}%`);
const duration = (ms: number | null): string => (ms === null ? dash : formatDuration(ms));
const hh = (hour: number | null): string => (hour === null ? dash : `${String(hour).padStart(2, '0')}:00`);

/** '2025-03-30 03:30:00+02:00' for an ISO instant, in `zone`. */
export function localTime(isoTime: string | null, zone: string): string {
  if (isoTime === null) return dash;
  const t = Date.parse(isoTime);
  const offset = offsetAt(zone, t);
  const wall = new Date(t + offset).toISOString().slice(0, 19).replace('T', ' ');
  return `${wall}${formatOffset(offset)}`;
}

/** ±HH:MM, or ±HH:MM:SS for the local mean times of old zone data (Berlin before 1893: +00:53:28). */
function formatOffset(offsetMs: number): string {
  const total = Math.round(Math.abs(offsetMs) / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  const seconds = total % 60;
  return `${offsetMs < 0 ? '-' : '+'}${two(Math.floor(total / 3600))}:${two(Math.floor(total / 60) % 60)}${seconds === 0 ? '' : `:${two(seconds)}`}`;
}

function load(v: ServerLoadVerdict): string {
  if (v.coincides === null) return 'no data';
  return `${fixed(v.meanConcurrentTransfers, 1)} vs ${fixed(v.windowMeanConcurrentTransfers, 1)}${v.coincides ? ' (busy)' : ''}`;
}

function section(title: string, body: string): string {
  return `${title}\n${body}\n`;
}

/** What the analysed results are called: the summary's `downloads` fields count results of its direction. */
function noun(s: AnalysisSummary): { many: string; Many: string } {
  const many = s.window.direction === 'upload' ? 'uploads' : 'downloads';
  return { many, Many: many[0]!.toUpperCase() + many.slice(1) };
}

function clientTables(s: AnalysisSummary): string[] {
  const zone = s.window.timeZone;
  const { many } = noun(s);
  const throughput = s.clients.map((c) => {
    const t = c.throughputMbps;
    return [
      c.client,
      String(c.downloads.total),
      String(c.downloads.failed),
      percent(c.downloads.failureRate),
      fixed(t.mean, 2),
      fixed(t.min, 2),
      fixed(t.max, 2),
      fixed(t.median, 2),
      fixed(t.p5, 2),
      fixed(t.p95, 2),
      fixed(t.stddev, 2),
      fixed(t.cv, 3),
    ];
  });
  const latency = s.clients.map((c) => [
    c.client,
    fixed(c.latencyMs.mean, 1),
    fixed(c.latencyMs.p95, 1),
    fixed(c.responseMs.mean, 1),
    fixed(c.responseMs.p95, 1),
    fixed(c.rttMs.idle, 1),
    fixed(c.rttMs.loaded, 1),
    fixed(c.rttMs.bufferbloat, 1),
    fixed(c.tcp.rttMs, 1),
    c.tcp.retransmits === null ? dash : String(c.tcp.retransmits),
    fixed(c.rpm, 0),
    percent(c.clientLimitedShare),
  ]);
  const schedule = s.clients.map((c) => [
    c.client,
    localTime(c.firstSeen, zone),
    localTime(c.lastSeen, zone),
    duration(c.schedule.expectedIntervalMs),
    String(c.schedule.gaps),
    duration(c.schedule.longestGapMs),
    String(c.schedule.missedEstimate),
    c.schedule.silent ? duration(c.schedule.silentForMs) : 'no',
    fixed(c.baseline.throughputMbps, 2),
    c.trend ? fixed(c.trend.slopeMbpsPerDay, 3) : dash,
    String(c.changePoints.length),
    String(c.episodes),
  ]);
  return [
    section(
      'Throughput per client (Mbit/s)',
      renderTable(['client', many, 'failed', 'fail%', 'mean', 'min', 'max', 'median', 'p5', 'p95', 'stddev', 'cv'], throughput),
    ),
    section(
      "Latency per client (ms; tcp rtt: the sending TCP's kernel RTT under load, retrans: its retransmitted segments; rpm: round trips per minute under load)",
      renderTable(
        [
          'client',
          'latency avg',
          'latency p95',
          'response avg',
          'response p95',
          'idle rtt',
          'loaded rtt',
          'bufferbloat',
          'tcp rtt',
          'retrans',
          'rpm',
          'client-limited',
        ],
        latency,
      ),
    ),
    section(
      'Schedule, baseline and trend per client',
      renderTable(
        [
          'client',
          'first seen',
          'last seen',
          'interval',
          'gaps',
          'longest gap',
          'missed',
          'silent',
          'baseline Mbit/s',
          'trend Mbit/s/day',
          'level changes',
          'episodes',
        ],
        schedule,
      ),
    ),
  ];
}

function hourTables(s: AnalysisSummary): string[] {
  const total = s.totals.downloads;
  const { many, Many } = noun(s);
  const hours = s.hourOfDay.map((h) => [
    hh(h.hour),
    String(h.downloads),
    percent(total ? h.downloads / total : null),
    bytes(h.bytes),
    fixed(h.medianThroughputMbps, 2),
    fixed(h.p95LatencyMs, 1),
    percent(h.failureRate),
    percent(h.relativeThroughput),
  ]);
  const b = s.busiestHour;
  const c = s.mostCongestedHour;
  const verdicts = [
    `Busiest hour: ${hh(b.hour)}${b.share === null ? '' : `, ${percent(b.share)} of ${many}`} (confidence ${b.confidence}: ${b.reason})`,
    `Most congested hour: ${hh(c.hour)}${c.relativeThroughput === null ? '' : `, ${percent(c.relativeThroughput)} of baseline`} (confidence ${c.confidence}: ${c.reason})`,
  ].join('\n');
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const matrix = days.map((day, d) => [
    day,
    ...s.weekdayHour.filter((cell) => cell.weekday === d + 1).map((cell) => String(cell.downloads)),
  ]);
  return [
    section(
      `Hour of day (${s.window.timeZone})`,
      renderTable(['hour', many, 'share', 'bytes', 'median Mbit/s', 'p95 latency ms', 'fail%', 'vs baseline'], hours),
    ),
    `${verdicts}\n`,
    section(
      `${Many} by weekday and hour (${s.window.timeZone}; --json or --csv weekday-hours for throughput and latency)`,
      renderTable(['', ...Array.from({ length: 24 }, (_, h) => String(h))], matrix),
    ),
  ];
}

/** Episodes shown in the terminal: the worst, in time order; all of them are in --json / --csv. */
const MAX_EPISODE_ROWS = 20;

function worst<T extends { severity: number; durationMs: number; start: string }>(items: readonly T[]): { shown: T[]; more: string } {
  if (items.length <= MAX_EPISODE_ROWS) return { shown: [...items], more: '' };
  const shown = [...items]
    .sort((a, b) => b.severity - a.severity || b.durationMs - a.durationMs)
    .slice(0, MAX_EPISODE_ROWS)
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return { shown, more: `\n(the ${MAX_EPISODE_ROWS} most severe of ${items.length}; --json or --csv for all)` };
}

function episodeTables(s: AnalysisSummary): string[] {
  const zone = s.window.timeZone;
  const clientEpisodes = worst(s.episodes);
  const networkEpisodes = worst(s.networkEpisodes);
  const episodes = clientEpisodes.shown.map((e) => [
    e.client,
    localTime(e.start, zone),
    localTime(e.end, zone),
    duration(e.durationMs),
    String(e.measurements),
    fixed(e.severity, 2),
    `${fixed(e.medianThroughputMbps, 2)} / ${fixed(e.baselineMbps, 2)}`,
    `${e.causes.lowThroughput}/${e.causes.highLatency}/${e.causes.failed}`,
    e.networkWide ? 'yes' : 'no',
    load(e.serverLoad),
    e.likelyCause,
  ]);
  const network = networkEpisodes.shown.map((e) => [
    localTime(e.start, zone),
    localTime(e.end, zone),
    duration(e.durationMs),
    e.clients.join(','),
    percent(e.peakShare),
    fixed(e.severity, 2),
    load(e.serverLoad),
    e.likelyCause,
  ]);
  return [
    section(
      'Congestion episodes',
      episodes.length === 0
        ? '(none)'
        : renderTable(
            [
              'client',
              'start',
              'end',
              'duration',
              'results',
              'severity',
              'median / baseline Mbit/s',
              'slow/late/failed',
              'network-wide',
              'server load',
              'likely cause',
            ],
            episodes,
          ) + clientEpisodes.more,
    ),
    section(
      'Network-wide episodes',
      network.length === 0
        ? '(none)'
        : renderTable(['start', 'end', 'duration', 'clients', 'peak share', 'severity', 'server load', 'likely cause'], network) +
            networkEpisodes.more,
    ),
  ];
}

export function renderSummaryTables(s: AnalysisSummary): string {
  const w = s.window;
  const t = s.totals;
  const { many } = noun(s);
  const other = w.direction === 'upload' ? 'download' : 'upload';
  const head = [
    `netprobe analysis of ${many}: ${localTime(w.firstResult, w.timeZone)} to ${localTime(w.lastResult, w.timeZone)} (time zone ${w.timeZone})`,
    `${t.clients} clients, ${t.downloads} ${many}, ${t.failed} failed (${percent(t.failureRate)}), ${bytes(t.bytes)}`,
    ...(w.otherDirectionResults > 0
      ? [`${w.otherDirectionResults} ${other} results in the same window are analysed apart: --direction ${other}`]
      : []),
    '',
  ].join('\n');
  const findings = s.findings.map((f) =>
    printable(`- ${f.kind}${f.client ? ` ${f.client}` : ''}${f.at ? ` at ${localTime(f.at, w.timeZone)}` : ''}: ${f.message}`),
  );
  return [
    head,
    ...(s.clients.length > 0 ? clientTables(s) : ['No results in the window.\n']),
    ...hourTables(s),
    ...episodeTables(s),
    section('Findings', findings.length === 0 ? '(none)' : findings.join('\n')),
  ].join('\n');
}
