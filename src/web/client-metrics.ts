/**
 * Per-client series in the style of blackbox_exporter's probe_* metrics: each client's latest
 * measurement (throughput, response time, idle and loaded RTT; its latest upload's throughput and
 * the latest RPM per direction), when it last succeeded, how many measurements it stored and how many
 * failed by error class (network, server, setup: the analyser's rule, analysis/error-class.ts), and a
 * histogram of its download throughput. Only newly stored results count
 * (duplicates of a retried REPORT are left out by the caller).
 *
 * Cardinality guard: the first `maxClients` clients seen get series; results of clients beyond
 * that only reach the server-wide aggregates, and `netprobe_clients_without_series` says how many
 * clients were left out, so a fleet that outgrows the limit is visible rather than silently cut.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { errorClass } from '../analysis/error-class.js';
import { type Direction, type StoredResult, directionOf } from '../protocol/result.js';

const BYTES_PER_MBIT = 125_000;
/** Bytes per second, 1 Mbit/s to 10 Gbit/s: fewer buckets than the server-wide histogram (one set per client). */
const CLIENT_THROUGHPUT_BUCKETS_BYTES = [1.25e5, 1.25e6, 6.25e6, 1.25e7, 3.125e7, 6.25e7, 1.25e8, 3.125e8, 1.25e9];

export const DEFAULT_METRICS_MAX_CLIENTS = 1000;

export interface ClientMetrics {
  observe(rows: readonly StoredResult[]): void;
}

export function createClientMetrics(registry: Registry, maxClients: number): ClientMetrics {
  const registers = [registry];
  const labelNames = ['client'] as const;
  const measurements = new Counter({
    name: 'netprobe_client_measurements_total',
    help: 'Measurements stored, by client.',
    labelNames,
    registers,
  });
  const failures = new Counter({
    name: 'netprobe_client_failures_total',
    help: 'Failed measurements stored, by client and error class (network, server, setup).',
    labelNames: ['client', 'class'],
    registers,
  });
  const response = new Gauge({
    name: 'netprobe_client_last_response_seconds',
    help: "Response time of the client's latest successful measurement.",
    labelNames,
    registers,
  });
  const idleRtt = new Gauge({
    name: 'netprobe_client_last_idle_rtt_seconds',
    help: "Idle RTT (before the download) of the client's latest measurement that had one.",
    labelNames,
    registers,
  });
  const loadedRtt = new Gauge({
    name: 'netprobe_client_last_loaded_rtt_seconds',
    help: "Loaded RTT (during the download) of the client's latest measurement that had one.",
    labelNames,
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'netprobe_client_last_success_timestamp_seconds',
    help: "Start of the client's latest successful measurement (Unix time).",
    labelNames,
    registers,
  });
  const uploadThroughput = new Gauge({
    name: 'netprobe_client_last_upload_throughput_bytes_per_second',
    help: "Throughput of the client's latest successful upload (×8 for bit/s).",
    labelNames,
    registers,
  });
  const rpm = new Gauge({
    name: 'netprobe_client_last_responsiveness_rpm',
    help: "Responsiveness (round trips per minute under load) of the client's latest successful measurement in each direction.",
    labelNames: ['client', 'direction'],
    registers,
  });
  const throughput = new Histogram({
    name: 'netprobe_client_throughput_bytes_per_second',
    help: 'Throughput of successful downloads, by client (×8 for bit/s).',
    labelNames,
    buckets: CLIENT_THROUGHPUT_BUCKETS_BYTES,
    registers,
  });
  const withSeries = new Set<string>();
  const without = new Set<string>();
  new Gauge({
    name: 'netprobe_clients_without_series',
    help: 'Clients beyond --metrics-max-clients: counted in the server-wide metrics only.',
    registers,
    collect() {
      this.set(without.size);
    },
  });
  /** Latest start time per gauge and client, so a late (outbox) result does not overwrite a newer one. */
  const latest = new Map<Gauge, Map<string, number>>();
  const setLatest = (gauge: Gauge, client: string, atMs: number, value: number, direction?: Direction) => {
    const seen = latest.get(gauge) ?? latest.set(gauge, new Map()).get(gauge)!;
    const key = direction === undefined ? client : `${client}\n${direction}`;
    if ((seen.get(key) ?? -Infinity) > atMs) return;
    seen.set(key, atMs);
    gauge.set(direction === undefined ? { client } : { client, direction }, value);
  };

  const admitted = (client: string): boolean => {
    if (withSeries.has(client)) return true;
    if (withSeries.size >= maxClients) {
      without.add(client);
      return false;
    }
    withSeries.add(client);
    // Every failure class starts at 0, so rate() and absent() work before the first failure.
    for (const c of ['network', 'server', 'setup']) failures.inc({ client, class: c }, 0);
    return true;
  };

  return {
    observe(rows) {
      for (const r of rows) {
        if (!admitted(r.client)) continue;
        const { client } = r;
        const atMs = Date.parse(r.startedAt);
        measurements.inc({ client });
        if (r.idleRttMs !== null) setLatest(idleRtt, client, atMs, r.idleRttMs / 1000);
        if (r.loadedRttMs !== null) setLatest(loadedRtt, client, atMs, r.loadedRttMs / 1000);
        if (r.error !== null) {
          failures.inc({ client, class: errorClass(r.error.code) ?? 'network' });
          continue;
        }
        setLatest(lastSuccess, client, atMs, atMs / 1000);
        if (r.responseMs !== null) setLatest(response, client, atMs, r.responseMs / 1000);
        const direction = directionOf(r);
        if (r.rpm !== null && r.rpm !== undefined) setLatest(rpm, client, atMs, r.rpm, direction);
        if (r.throughputMbps === null) continue;
        if (direction === 'upload') setLatest(uploadThroughput, client, atMs, r.throughputMbps * BYTES_PER_MBIT);
        else throughput.observe({ client }, r.throughputMbps * BYTES_PER_MBIT);
      }
    },
  };
}
