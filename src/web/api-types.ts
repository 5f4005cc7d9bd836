/**
 * JSON shapes of the dashboard API, shared by the server (src/web) and the page (src/web/ui).
 * No imports: this file is compiled for Node and bundled for the browser. Times are ms since the
 * epoch (UTC), rates Mbit/s (10^6 bit/s).
 */

export type ClientStatus = 'ok' | 'congested' | 'failing' | 'silent';

export interface ClientRow {
  client: string;
  /** When the server last received a result from this client. */
  lastSeenMs: number;
  /** Start of the client's most recent measurement (silence is judged by it). */
  lastStartedMs: number;
  /** Throughput of the most recent measurement; null when it failed. */
  lastMbps: number | null;
  lastResponseMs: number | null;
  /** Error code of the most recent measurement, if it failed. */
  lastError: string | null;
  /** Median throughput of the client's successful results in the window. */
  medianMbps: number | null;
  /** Results in the window (failures included). */
  results: number;
  failures: number;
  /** Congestion episodes of this client in the window. */
  episodes: number;
  status: ClientStatus;
}

/** One result as the chart and the live feed need it. */
export interface Point {
  id: string;
  client: string;
  /** Measurement start. */
  t: number;
  mbps: number | null;
  responseMs: number | null;
  error: string | null;
}

/** A run of congested results: one client's, or network-wide (`client` null). */
export interface Episode {
  client: string | null;
  fromMs: number;
  toMs: number;
  results: number;
  /** Lowest throughput in the episode as a fraction of the median it is compared with. */
  worstRatio: number;
  /** It includes the most recent result (or time bucket). */
  ongoing: boolean;
}

export type AlertKind = 'silent' | 'failing' | 'congestion' | 'network-congestion';

export interface Alert {
  kind: AlertKind;
  severity: 'warning' | 'critical';
  /** null for a network-wide alert. */
  client: string | null;
  sinceMs: number;
  message: string;
}

/** The clock hour in the window with the most downloads (ties: the more congested one). */
export interface BusiestHour {
  startMs: number;
  /** Downloads (results, failed ones included) that started in the hour. */
  results: number;
  /** Mean of the hour's throughputs, each over its client's window median; null when unknown. */
  ratio: number | null;
  /** Median throughput of the hour's successful results. */
  medianMbps: number | null;
}

export interface TransferRow {
  client: string;
  file: string;
  mode: 'file' | 'duration';
  startedAtMs: number;
  bytes: number;
}

export interface LoadSnapshot {
  atMs: number;
  activeTransfers: number;
  maxConcurrentTransfers: number;
  openConnections: number;
  /** Server outbound rate over the last few whole seconds. */
  outboundMbps: number | null;
  resultsPerMinute: number;
  /** Transfers running now, longest first (at most MAX_TRANSFER_ROWS). */
  transfers: TransferRow[];
  shuttingDown: boolean;
}

export interface Summary {
  atMs: number;
  windowMs: number;
  clients: ClientRow[];
  episodes: Episode[];
  alerts: Alert[];
  busiestHour: BusiestHour | null;
  /** Median throughput of every successful result in the window. */
  networkMedianMbps: number | null;
  /** Results of the last RECENT_MS against their clients' medians (median ratio; 1 = as usual). */
  recentRatio: number | null;
}

/** GET /api/snapshot: everything the page needs to draw itself once. */
export interface Snapshot {
  serverId: string;
  summary: Summary;
  points: Point[];
  load: LoadSnapshot;
}

/** Server-Sent Events on GET /api/events, by event name. */
export interface StreamEvents {
  result: Point;
  summary: Summary;
  load: LoadSnapshot;
}

/** Results below this fraction of their client's window median are congested. */
export const CONGESTED_RATIO = 0.5;
export const MAX_TRANSFER_ROWS = 50;
/** "Now" for the recent ratio. */
export const RECENT_MS = 30 * 60_000;
