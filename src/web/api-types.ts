/**
 * JSON shapes of the dashboard API, shared by the server (src/web) and the page (src/web/ui).
 * Type imports only (of src/analysis): this file is compiled for Node and bundled for the browser.
 * Times are ms since the epoch (UTC), rates Mbit/s (10^6 bit/s).
 */
import type { Thresholds } from '../analysis/thresholds.js';
import type { BusiestHour, CongestedHour } from '../analysis/types.js';

export type { BusiestHour, CongestedHour, Thresholds };

export type ClientStatus = 'ok' | 'congested' | 'failing' | 'silent';

/** Which results a window and its rules look at: one direction at a time, as `netprobe analyse --direction`. */
export type Direction = 'download' | 'upload';
export const DIRECTIONS: readonly Direction[] = ['download', 'upload'];

/** A client's most recent measurement: kept even after its results left the window. */
export interface LastResult {
  /** When the server last received a result from this client. */
  lastSeenMs: number;
  /** Start of the client's most recent measurement (silence is judged by it). */
  lastStartedMs: number;
  /** Throughput of the most recent measurement; null when it failed. */
  lastMbps: number | null;
  lastResponseMs: number | null;
  lastDownloadMs: number | null;
  /** Error code of the most recent measurement, if it failed. */
  lastError: string | null;
}

export interface ClientRow extends LastResult {
  client: string;
  /** Median throughput of the client's successful results in the window. */
  medianMbps: number | null;
  /** The client's baselines over the window (src/analysis/baseline.ts); null: too few results to judge it. */
  baselineMbps: number | null;
  latencyBaselineMs: number | null;
  /** Results in the window (failures included). */
  results: number;
  failures: number;
  /** Congestion episodes of this client in the window (the analyser's rule). */
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
  /** Request sent to last byte: what the degraded test's latency side judges. */
  downloadMs: number | null;
  error: string | null;
  /** Responsiveness under load, round trips per minute (null: no loaded probes). */
  rpm: number | null;
  /** 'upload': an upload (the upload window's, and in the feed); absent: a download. */
  direction?: 'upload';
}

/**
 * A congestion episode by the analyser's rule (docs/analysis.md): one client's run of degraded
 * results, or a network-wide episode (`client` null).
 */
export interface Episode {
  client: string | null;
  /** Start of the first and of the last degraded result (network-wide: of the overlap). */
  fromMs: number;
  toMs: number;
  /** Degraded results in it (network-wide: of all its clients). */
  results: number;
  /** Median shortfall of its results (0 = at baseline, 1 = failed). */
  severity: number;
  /** The clients in it (one for a client's episode). */
  clients: string[];
  /** It includes the client's most recent result (network-wide: at least minNetworkClients of its clients are still in theirs). */
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

/** The results the rules looked at: start times in [fromMs, toMs], hours of day in timeZone. */
export interface SummaryWindow {
  fromMs: number;
  toMs: number;
  timeZone: string;
}

export interface Summary {
  /** The direction whose results the window holds and the rules judged. */
  direction: Direction;
  atMs: number;
  windowMs: number;
  window: SummaryWindow;
  /** The thresholds the rules used (the analyser's defaults). */
  thresholds: Thresholds;
  clients: ClientRow[];
  episodes: Episode[];
  alerts: Alert[];
  /** As `netprobe analyse` names them for the same window and zone. */
  busiestHour: BusiestHour;
  mostCongestedHour: CongestedHour;
  /** Median throughput of every successful result in the window. */
  networkMedianMbps: number | null;
  /** Results of the last RECENT_MS against their clients' throughput baselines (median ratio; 1 = at baseline). */
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
  /** A newly stored upload: the live feed's, and the upload window's. */
  upload: Point;
  /** The download window's summary. */
  summary: Summary;
  /** The upload window's summary. */
  'summary-upload': Summary;
  load: LoadSnapshot;
}

export const MAX_TRANSFER_ROWS = 50;
/** "Now" for the recent ratio. */
export const RECENT_MS = 30 * 60_000;
