/**
 * The one `Thresholds` type: every number a rule in src/analysis compares against. Defaults,
 * validation and the CLI's names live in options.ts (its schema is checked against this type);
 * docs/analysis.md documents each. No imports: the dashboard's browser bundle uses it too.
 */
export interface Thresholds {
  /** A spacing longer than this many expected intervals is a gap; silence for as long is a finding. */
  gapFactor: number;
  /** Spacings needed before a client's expected interval (their median) is inferred. */
  minIntervalSamples: number;
  /** A client's throughput baseline is this percentile of its successful throughputs. */
  baselinePercentile: number;
  /** A client's latency baseline is this percentile of its download times. */
  latencyBaselinePercentile: number;
  /** Successful results a client needs before it has a baseline (and can be judged). */
  minBaselineSamples: number;
  /** A result is degraded below this fraction of its client's throughput baseline … */
  degradedThroughputFraction: number;
  /** … or with a download time above this multiple of its latency baseline, or when it failed. */
  degradedLatencyFactor: number;
  /** An episode spans at least this long (first to last degraded result) … */
  minEpisodeMs: number;
  /** … and holds at least this many consecutive degraded results. */
  minEpisodeMeasurements: number;
  /** Network-wide: at least this share of the clients active at the time are in an episode … */
  networkShare: number;
  /** … and at least this many of them. */
  minNetworkClients: number;
  /** … for at least this long. */
  minNetworkEpisodeMs: number;
  /** An episode coincides with server load when the server's mean concurrency in it is this multiple of the window's … */
  serverLoadFactor: number;
  /** … and at least this many concurrent transfers. */
  minServerConcurrentTransfers: number;
  /** Downloads needed before the busiest or most congested hour is named. */
  minHourDownloads: number;
  /** The busiest hour is 'high' confidence when a binomial test against the runner-up gives p below this. */
  busiestSignificance: number;
  /** A client's hour enters the congestion profile with at least this many successful results. */
  minClientHourSamples: number;
  /** The most congested hour is 'high' confidence when its relative throughput is this far below the typical hour's … */
  congestedDrop: number;
  /** … and this far below the runner-up's. */
  congestedMargin: number;
  /** Bucket medians needed for a trend. */
  minTrendPoints: number;
  /** Change points: buckets each side of a step at least … */
  changeMinSegment: number;
  /** … a level change of at least this fraction … */
  changeMinShift: number;
  /** … and a two-sample t score of at least this. */
  changeMinScore: number;
  /** A failure rate at or above this is a finding. */
  highFailureRate: number;
}
