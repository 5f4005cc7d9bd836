/**
 * Prometheus metrics of one server: a dedicated prom-client Registry per server instance (tests run
 * many servers in one process). Counters follow the server's events; totals the server already
 * keeps are read when scraped. Units are base units in the names (seconds, bytes, bytes per second).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServerView } from '../server/view.js';
import type { TransferRecord } from '../store/types.js';
import { type StoredResult, directionOf } from '../protocol/result.js';
import { createClientMetrics } from './client-metrics.js';
import type { DashboardState } from './state.js';

const DURATION_BUCKETS_S = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const RESPONSE_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Bytes per second (Prometheus' base unit): 1 Mbit/s = 125,000 B/s; 100 kbit/s to 20 Gbit/s. */
/** Responsiveness in round trips per minute: 60,000 ÷ these is the loaded RTT in ms (1,200 s … 0.6 ms). */
export const RPM_BUCKETS = [50, 100, 200, 300, 500, 1000, 2000, 3000, 5000, 10_000, 30_000, 100_000];
const THROUGHPUT_BUCKETS_BYTES = [
  1.25e4, 1.25e5, 6.25e5, 1.25e6, 3.125e6, 6.25e6, 1.25e7, 3.125e7, 6.25e7, 1.25e8, 3.125e8, 6.25e8, 1.25e9, 2.5e9,
];
const BYTES_PER_MBIT = 125_000;
/** prom-client's gauges that end in _total (promtool: only counters may); the same values exist without the suffix. */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export interface ServerMetricsRegistry {
  registry: Registry;
  /** Client-reported values of newly stored results (duplicates already left out). */
  observeResults(rows: readonly StoredResult[]): void;
  /** Stops listening to the server's events. */
  close(): void;
}

/**
 * Registers the metrics and starts counting `ctx`'s events. `maxClients` clients get their own
 * series; `streams` is the number of dashboard viewers.
 */
export function createMetrics(ctx: ServerView, maxClients: number, state: DashboardState, streams: () => number): ServerMetricsRegistry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULTS) registry.removeSingleMetric(name);
  const { metrics, load, events } = ctx;

  /** A counter mirroring a total the server keeps. */
  const mirror = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });

  new Gauge({
    name: 'netprobe_server_info',
    help: 'Constant 1, labelled with the server id.',
    labelNames: ['server_id'],
    registers,
    collect() {
      this.set({ server_id: ctx.serverId }, 1);
    },
  });
  mirror('netprobe_connections_accepted_total', 'Client connections accepted after a verified TLS handshake.', () => metrics.connections);
  mirror('netprobe_bytes_sent_total', 'Test file payload bytes sent to clients.', () => load.totalBytes);
  mirror('netprobe_busy_responses_total', 'GET_FILE requests answered BUSY (too many concurrent transfers).', () => metrics.busy);
  gauge('netprobe_open_connections', 'Client connections open now.', () => metrics.openConnections);
  gauge('netprobe_concurrent_transfers', 'Transfers running now.', () => load.active);
  gauge('netprobe_max_concurrent_transfers', 'Transfers allowed at once before BUSY.', () => ctx.config.maxConcurrentTransfers);
  gauge('netprobe_dashboard_streams', 'Dashboard pages connected to the live stream.', streams);

  new Counter({
    name: 'netprobe_errors_sent_total',
    help: 'ERROR frames sent to clients, by error code.',
    labelNames: ['code'],
    registers,
    collect() {
      this.reset();
      for (const [code, n] of metrics.errors) this.inc({ code }, n);
    },
  });
  new Gauge({
    name: 'netprobe_client_last_result_timestamp_seconds',
    help: 'When the server last received a result from the client (Unix time).',
    labelNames: ['client'],
    registers,
    collect() {
      this.reset();
      for (const [client, meta] of state.clients()) this.set({ client }, meta.lastSeenMs / 1000);
    },
  });
  new Gauge({
    name: 'netprobe_client_last_throughput_bytes_per_second',
    help: "Throughput of the client's latest measurement (absent when it failed).",
    labelNames: ['client'],
    registers,
    collect() {
      this.reset();
      for (const [client, meta] of state.clients()) if (meta.lastMbps !== null) this.set({ client }, meta.lastMbps * BYTES_PER_MBIT);
    },
  });

  const refused = new Counter({
    name: 'netprobe_connections_refused_total',
    help: 'Connections refused, by reason.',
    labelNames: ['reason'],
    registers,
  });
  const handshakes = new Counter({
    name: 'netprobe_tls_handshake_failures_total',
    help: 'TLS handshakes that failed, by OpenSSL or node error code.',
    labelNames: ['reason'],
    registers,
  });
  const transfers = new Counter({
    name: 'netprobe_transfers_total',
    help: 'Transfers served, by mode and outcome (ok or an error code).',
    labelNames: ['mode', 'outcome'],
    registers,
  });
  const transferSeconds = new Histogram({
    name: 'netprobe_transfer_duration_seconds',
    help: 'Server-side transfer time: first byte written to last byte handed to TLS.',
    labelNames: ['mode'],
    buckets: DURATION_BUCKETS_S,
    registers,
  });
  const reports = new Counter({ name: 'netprobe_reports_received_total', help: 'REPORT messages received.', registers });
  const reportsRejected = new Counter({
    name: 'netprobe_reports_rejected_total',
    help: 'REPORT messages refused (nothing of them stored), by error code.',
    labelNames: ['reason'],
    registers,
  });
  const results = new Counter({ name: 'netprobe_results_received_total', help: 'Results received in REPORT messages.', registers });
  const stored = new Counter({ name: 'netprobe_results_stored_total', help: 'Results newly stored.', registers });
  const duplicates = new Counter({
    name: 'netprobe_results_duplicate_total',
    help: 'Results received again (already stored; acknowledged, not rewritten).',
    registers,
  });
  const resultsRejected = new Counter({
    name: 'netprobe_results_rejected_total',
    help: 'Results in refused REPORT messages, by error code.',
    labelNames: ['reason'],
    registers,
  });
  const throughput = new Histogram({
    name: 'netprobe_result_throughput_bytes_per_second',
    help: 'Client-reported throughput of successful downloads (×8 for bit/s).',
    buckets: THROUGHPUT_BUCKETS_BYTES,
    registers,
  });
  const uploadThroughput = new Histogram({
    name: 'netprobe_result_upload_throughput_bytes_per_second',
    help: 'Throughput of successful uploads, as the receiving server timed it (×8 for bit/s).',
    buckets: THROUGHPUT_BUCKETS_BYTES,
    registers,
  });
  const rpm = new Histogram({
    name: 'netprobe_result_responsiveness_rpm',
    help: 'Responsiveness under load of successful measurements: round trips per minute (draft-ietf-ippm-responsiveness), by direction.',
    labelNames: ['direction'],
    buckets: RPM_BUCKETS,
    registers,
  });
  const response = new Histogram({
    name: 'netprobe_result_response_seconds',
    help: 'Client-reported response time: GET_FILE sent to first byte of the answer.',
    buckets: RESPONSE_BUCKETS_S,
    registers,
  });
  const failures = new Counter({ name: 'netprobe_result_failures_total', help: 'Stored results of failed measurements.', registers });
  const perClient = createClientMetrics(registry, maxClients);

  const onRefused = ({ reason }: { reason: string }) => refused.inc({ reason });
  const onHandshake = ({ reason }: { reason: string }) => handshakes.inc({ reason });
  const onTransferEnd = (_active: unknown, r: TransferRecord) => {
    transfers.inc({ mode: r.mode, outcome: r.outcome });
    transferSeconds.observe({ mode: r.mode }, r.durationMs / 1000);
  };
  const onReport = (o: { results: number; stored: number; duplicates: number }) => {
    reports.inc();
    results.inc(o.results);
    stored.inc(o.stored);
    duplicates.inc(o.duplicates);
  };
  const onRejected = (o: { reason: string; results: number }) => {
    reports.inc();
    results.inc(o.results);
    reportsRejected.inc({ reason: o.reason });
    resultsRejected.inc({ reason: o.reason }, o.results);
  };
  events.on('connectionRefused', onRefused);
  events.on('handshakeFailed', onHandshake);
  events.on('transferEnd', onTransferEnd);
  events.on('report', onReport);
  events.on('reportRejected', onRejected);

  return {
    registry,
    observeResults(rows) {
      for (const r of rows) {
        if (r.error !== null) failures.inc();
        else {
          const direction = directionOf(r);
          if (r.throughputMbps !== null)
            (direction === 'upload' ? uploadThroughput : throughput).observe(r.throughputMbps * BYTES_PER_MBIT);
          if (r.rpm !== null && r.rpm !== undefined) rpm.observe({ direction }, r.rpm);
        }
        if (r.responseMs !== null) response.observe(r.responseMs / 1000);
      }
      perClient.observe(rows);
    },
    close() {
      events.off('connectionRefused', onRefused);
      events.off('handshakeFailed', onHandshake);
      events.off('transferEnd', onTransferEnd);
      events.off('report', onReport);
      events.off('reportRejected', onRejected);
      registry.clear();
    },
  };
}
