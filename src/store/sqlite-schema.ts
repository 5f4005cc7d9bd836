/**
 * SQLite schema, versioned with PRAGMA user_version. Each entry migrates from version i to i+1.
 * Times are integer milliseconds since the epoch (UTC); durations in ms; rates in Mbit/s.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE results (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    server TEXT NOT NULL,
    file TEXT NOT NULL,
    mode TEXT NOT NULL,
    started_at_ms INTEGER NOT NULL,
    received_at_ms INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    dns_ms REAL, connect_ms REAL, tls_ms REAL, idle_rtt_ms REAL,
    response_ms REAL, download_ms REAL, transfer_ms REAL,
    throughput_mbps REAL, goodput_mbps REAL, loaded_rtt_ms REAL,
    samples_mbps TEXT NOT NULL,
    cpu_ms REAL,
    client_limited INTEGER NOT NULL,
    sha256_ok INTEGER,
    tls_version TEXT, cipher TEXT,
    busy_retries INTEGER NOT NULL,
    error_code TEXT, error_message TEXT,
    server_concurrent_transfers INTEGER,
    server_outbound_mbps REAL
  ) STRICT;
  CREATE INDEX results_started ON results (started_at_ms);
  CREATE INDEX results_client_started ON results (client, started_at_ms);
  CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY,
    client TEXT NOT NULL,
    file TEXT NOT NULL,
    mode TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    started_at_ms INTEGER NOT NULL,
    duration_ms REAL NOT NULL,
    concurrent_at_start INTEGER NOT NULL,
    outcome TEXT NOT NULL
  ) STRICT;
  CREATE INDEX transfers_started ON transfers (started_at_ms);
  `,
  // 2: progress markers of `netprobe store migrate` (key: the source; value: JSON).
  `
  CREATE TABLE import_progress (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  // 3: upload (protocol capability 'upload'): which way the payload flowed; rows before it are downloads.
  `
  ALTER TABLE results ADD COLUMN direction TEXT NOT NULL DEFAULT 'download' CHECK (direction IN ('download', 'upload'));
  ALTER TABLE results ADD COLUMN server_limited INTEGER;
  `,
  // 4: responsiveness (RPM) and the number of loaded PINGs behind it; null for older rows.
  `
  ALTER TABLE results ADD COLUMN rpm REAL;
  ALTER TABLE results ADD COLUMN rpm_probes INTEGER;
  `,
  // 5: parallel streams (--streams): how many, and each stream's Mbit/s over the common interval (JSON; null for one stream).
  `
  ALTER TABLE results ADD COLUMN streams INTEGER NOT NULL DEFAULT 1;
  ALTER TABLE results ADD COLUMN streams_mbps TEXT;
  `,
  // 6: the measured connection resumed a TLS session (1), made a full handshake (0); null for older rows.
  `
  ALTER TABLE results ADD COLUMN tls_resumed INTEGER;
  `,
  // 7: responsiveness per probe kind (capability 'self-ping'): foreign and self RPM, self probes; null for older rows.
  `
  ALTER TABLE results ADD COLUMN rpm_foreign REAL;
  ALTER TABLE results ADD COLUMN rpm_self REAL;
  ALTER TABLE results ADD COLUMN rpm_self_probes INTEGER;
  `,
  // 8: the sending TCP's view from its kernel (capability 'tcp-info'): median smoothed RTT, retransmits; null for older rows.
  `
  ALTER TABLE results ADD COLUMN tcp_rtt_ms REAL;
  ALTER TABLE results ADD COLUMN tcp_retransmits INTEGER;
  `,
];
