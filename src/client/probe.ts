/**
 * One measurement against one server, always ending in a Result: connect (DNS, TCP, TLS timed),
 * HELLO, idle RTT, a second connection for loaded RTT, GET_FILE or PUT on 1–16 parallel connections
 * (BUSY honoured), payload metered.
 * A failed attempt is a Result too, with `error` set and the phases it completed filled in.
 */
import { setTimeout as sleepMs } from 'node:timers/promises';
import { ErrorCodes, NetprobeError, UsageError, errorCode, errorMessage } from '../errors.js';
import { type Direction, MAX_STREAMS, type Result, resultSchema } from '../protocol/result.js';
import type { TlsMaterial, TlsMinVersion } from '../tls/options.js';
import { type ConnectTimeouts, type ConnectTimings, DEFAULT_CONNECT_TIMEOUTS, type Lookup, type TlsSessions } from './connect.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { DEFAULT_LOADED_PING_INTERVAL_MS, LoadedPinger, foreignProbe, selfProbe } from './loaded-rtt.js';
import { median } from './meter.js';
import { downloadParallel, downloadStreams, isBusy, uploadParallel } from './parallel.js';
import { fillDownload, fillLoaded, fillProgress, fillTcp, fillUpload, roundOrNull } from './probe-result.js';
import { DEFAULT_REQUEST_TIMEOUT_MS, type Session, openSession } from './session.js';
import type { UploadOutcome } from './upload.js';
import { uuidv7 } from './uuid.js';

export interface ProbeTimeouts extends ConnectTimeouts {
  /** HELLO and PING answers. */
  requestMs: number;
  /** GET_FILE written to FILE_META. */
  responseMs: number;
  /** Longest silence while the payload flows. */
  idleMs: number;
  /** Whole download (duration mode: on top of the duration). */
  totalMs: number;
}

export const DEFAULT_PROBE_TIMEOUTS: ProbeTimeouts = {
  ...DEFAULT_CONNECT_TIMEOUTS,
  requestMs: DEFAULT_REQUEST_TIMEOUT_MS,
  responseMs: 30_000,
  idleMs: 30_000,
  totalMs: 600_000,
};

export interface ProbeConfig {
  endpoint: Endpoint;
  tls: TlsMaterial;
  minVersion?: TlsMinVersion | undefined;
  /** File to download (file mode), or to stream from (duration mode). */
  file: string;
  /** Duration mode: the server streams for this long. */
  durationMs?: number | undefined;
  /** 'download' (default): the server sends; 'upload': we send as much as `file` holds (or for durationMs) and the server measures. */
  direction?: Direction | undefined;
  /** Our certificate's CN, put in `client` (the server refuses any other value). */
  clientName?: string | undefined;
  idlePings?: number;
  /** 0 disables the second connection (loadedRttMs stays null). */
  loadedPingIntervalMs?: number;
  /** Parallel TLS connections for the transfer (1–16, default 1); each is one transfer for the server's limits. */
  streams?: number;
  timeouts?: Partial<ProbeTimeouts>;
  maxBusyRetries?: number;
  /** Cap on one BUSY wait, whatever retryAfterMs says. */
  maxBusyWaitMs?: number;
  /**
   * File mode: 'sha256' (default) hashes every payload byte and compares it with the server's
   * announcement; 'none' relies on TLS alone (its AEAD already authenticates every record) and
   * leaves `sha256Ok` null. SHA-256 costs about 0.5 CPU s per GiB, so above ~5 Gbit/s it can
   * make the client the bottleneck (see `clientLimited`).
   */
  verify?: 'sha256' | 'none';
  /** TLS sessions to resume (every connection of the probe offers one) and to keep new tickets in; none: full handshakes only. */
  sessions?: TlsSessions | undefined;
  /** The measured connection makes a full handshake even with a session at hand (the loaded-RTT connection still resumes). */
  fullHandshake?: boolean | undefined;
  /**
   * After a measurement without error, leave its main session open and return it
   * (`ProbeOutcome.session`): the caller reports the result on it and closes it, saving the
   * server a connection (a TLS handshake, HELLO, the per-client checks) per measurement.
   */
  keepSession?: boolean | undefined;
}

export interface ProbeDeps {
  /** Wall clock for startedAt and the id (default Date.now). */
  wallNow?: () => number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  lookup?: Lookup;
  /** Told when the loaded-RTT connection could not be used (the measurement goes on without it). */
  onWarning?: (message: string, err: unknown) => void;
}

export interface ProbeOutcome {
  result: Result;
  /** The server answered HELLO: false means it is down or unreachable (try another one). */
  answered: boolean;
  /** With `keepSession`: the main session, open and idle, after a measurement without error; the caller closes it. */
  session?: Session;
}

const DEFAULT_IDLE_PINGS = 5;
const DEFAULT_MAX_BUSY_RETRIES = 5;
const DEFAULT_MAX_BUSY_WAIT_MS = 60_000;
/** A BUSY wait is retryAfterMs plus up to this share of it, so clients told the same do not return together. */
const BUSY_JITTER_SHARE = 0.5;

export async function probe(config: ProbeConfig, deps: ProbeDeps = {}): Promise<ProbeOutcome> {
  const timeouts = { ...DEFAULT_PROBE_TIMEOUTS, ...config.timeouts };
  const random = deps.random ?? Math.random;
  const sleep = deps.sleep ?? ((ms: number) => sleepMs(ms));
  const wallStart = Math.floor((deps.wallNow ?? Date.now)());
  const mode = config.durationMs === undefined ? 'file' : 'duration';
  const direction = config.direction ?? 'download';
  const result: Result = {
    id: uuidv7(wallStart),
    ...(config.clientName === undefined ? {} : { client: config.clientName }),
    server: formatEndpoint(config.endpoint),
    file: config.file,
    mode,
    startedAt: new Date(wallStart).toISOString(),
    bytes: 0,
    dnsMs: null,
    connectMs: null,
    tlsMs: null,
    idleRttMs: null,
    responseMs: null,
    downloadMs: null,
    transferMs: null,
    throughputMbps: null,
    goodputMbps: null,
    loadedRttMs: null,
    samplesMbps: [],
    cpuMs: null,
    clientLimited: false,
    sha256Ok: null,
    tlsVersion: null,
    cipher: null,
    busyRetries: 0,
    error: null,
    ...(direction === 'upload' ? { direction, serverLimited: null } : {}),
  };
  const timings: ConnectTimings = { dnsMs: null, connectMs: null, tlsMs: null };
  const open = async (connectTimings?: ConnectTimings, pingOnly = false): Promise<Session> => {
    const { session, connected } = await openSession({
      pingOnly,
      endpoint: config.endpoint,
      tls: config.tls,
      minVersion: config.minVersion,
      timeouts,
      timings: connectTimings,
      lookup: deps.lookup,
      requestTimeoutMs: timeouts.requestMs,
      sessions: config.sessions,
      fullHandshake: connectTimings === timings && config.fullHandshake === true,
    });
    if (connectTimings === timings) {
      result.tlsResumed = connected.tlsResumed;
      result.tlsVersion = connected.tlsVersion;
      result.cipher = connected.cipher;
    }
    return session;
  };

  let answered = false;
  const streamCount = config.streams ?? 1;
  if (!Number.isInteger(streamCount) || streamCount < 1 || streamCount > MAX_STREAMS) {
    throw new UsageError(`streams is a whole number from 1 to ${MAX_STREAMS}, not ${streamCount}`);
  }
  /** Stream i's session; the first is the main one (HELLO, idle RTT, its connect timings). */
  const sessions: Session[] = [];
  let loaded: Session | undefined;
  const verify = (config.verify ?? 'sha256') === 'sha256';
  let streams = downloadStreams(streamCount, verify);
  let sent: UploadOutcome[] | undefined;
  let kept: Session | undefined;
  try {
    const main = await open(timings);
    sessions.push(main);
    answered = true;
    checkFileOffered(config.file, result.server, main.welcome?.files);
    if (direction === 'upload' && !main.offers('upload')) {
      throw new UnsupportedError(
        `server ${result.server} does not take uploads (an older netprobe server without the 'upload' capability); use --direction download or upgrade it`,
      );
    }
    if (direction === 'upload' && streamCount > 1 && !main.offers('streams')) {
      throw new UnsupportedError(
        `server ${result.server} does not time parallel uploads (an older netprobe server without the 'streams' capability); use --streams 1 or upgrade it`,
      );
    }

    const idleRtts: number[] = [];
    for (let i = 0; i < (config.idlePings ?? DEFAULT_IDLE_PINGS); i++) {
      const { rttMs, kernelRttMs } = await main.ping();
      idleRtts.push(kernelRttMs ?? rttMs);
    }
    result.idleRttMs = roundOrNull(median(idleRtts));

    const pingIntervalMs = config.loadedPingIntervalMs ?? DEFAULT_LOADED_PING_INTERVAL_MS;
    if (pingIntervalMs > 0) {
      loaded = await open(undefined, true).catch((err: unknown) => {
        deps.onWarning?.(`no loaded-RTT connection to ${result.server}: ${errorMessage(err)}`, err);
        return undefined;
      });
    }

    const request = { name: config.file, ...(config.durationMs === undefined ? {} : { durationMs: config.durationMs }) };
    const maxBusyRetries = config.maxBusyRetries ?? DEFAULT_MAX_BUSY_RETRIES;
    for (;;) {
      // Streams cut by another stream's BUSY (or not opened yet) get a fresh connection.
      for (let i = 0; i < streamCount; i++) {
        if (sessions[i]?.failureReason === undefined && sessions[i] !== undefined) continue;
        sessions[i]?.close();
        sessions[i] = await open(i === 0 ? timings : undefined);
      }
      streams = downloadStreams(streamCount, verify);
      const pinger = loaded === undefined ? undefined : new LoadedPinger(foreignProbe(loaded), pingIntervalMs, timeouts.requestMs);
      // Self probes on the loaded connections, at the foreign probes' rate (the draft: as many of each).
      const selfPinger =
        pingIntervalMs > 0 && main.offers('self-ping')
          ? new LoadedPinger(selfProbe(sessions), pingIntervalMs, timeouts.requestMs)
          : undefined;
      const startPinger = () => {
        pinger?.start();
        selfPinger?.start();
      };
      const stopPingers = async (): Promise<[number[], number[] | undefined, number[]]> => [
        (await pinger?.stop()) ?? [],
        await selfPinger?.stop(),
        pinger?.networkRttsMs ?? [],
      ];
      try {
        if (direction === 'upload') {
          sent = await uploadParallel(sessions, request, { responseMs: timeouts.responseMs, totalMs: timeouts.totalMs }, startPinger);
        } else {
          await downloadParallel(
            sessions,
            streams,
            request,
            { responseMs: timeouts.responseMs, idleMs: timeouts.idleMs, totalMs: timeouts.totalMs },
            startPinger,
          );
        }
        fillLoaded(result, ...(await stopPingers()));
        break;
      } catch (err) {
        const rtts = await stopPingers();
        if (!isBusy(err) || result.busyRetries >= maxBusyRetries) {
          fillLoaded(result, ...rtts);
          throw err;
        }
        result.busyRetries++;
        const retryAfterMs = err.retryAfterMs ?? 1_000;
        await sleep(Math.min(config.maxBusyWaitMs ?? DEFAULT_MAX_BUSY_WAIT_MS, retryAfterMs * (1 + BUSY_JITTER_SHARE * random())));
      }
    }

    if (sent !== undefined) fillUpload(result, sent);
    else fillDownload(result, streams, mode === 'file' && verify, config.file);
    // The fields exist for servers that list 'tcp-info' (an older server's result schema lacks them).
    if (main.offers('tcp-info')) fillTcp(result, sent !== undefined ? sent.map((s) => s.tcp) : streams.map((s) => s.progress.tcp));
    const last = sessions[0];
    if (config.keepSession === true && result.error === null && last?.failureReason === undefined) kept = last;
  } catch (err) {
    // A file the server does not have is a mistake in the setup, not a measurement.
    if (err instanceof UnknownFileError || err instanceof UnsupportedError) throw err;
    fillProgress(
      result,
      streams.map((s) => s.progress),
    );
    const first = streams[0]!.progress;
    if (streamCount === 1 && first.firstPayloadAtMs !== null)
      result.samplesMbps = streams[0]!.meter.samples(first.lastPayloadAtMs ?? first.firstPayloadAtMs);
    result.error = { code: errorCode(err).slice(0, 64), message: errorMessage(err).slice(0, 1024) };
    if (!(err instanceof NetprobeError)) result.error.message = `unexpected: ${result.error.message}`.slice(0, 1024);
  } finally {
    for (const session of sessions) if (session !== kept) session.close();
    loaded?.close();
  }
  result.dnsMs = roundOrNull(timings.dnsMs);
  result.connectMs = roundOrNull(timings.connectMs);
  result.tlsMs = roundOrNull(timings.tlsMs);

  const checked = resultSchema.safeParse(result);
  if (!checked.success) {
    kept?.close();
    throw new NetprobeError(ErrorCodes.internal, `probe built an invalid result (a bug): ${checked.error.message.slice(0, 2000)}`);
  }
  return { result: checked.data, answered, ...(kept === undefined ? {} : { session: kept }) };
}

/** Refused before measuring: the server's WELCOME lists its files and `file` is not among them. */
export class UnknownFileError extends UsageError {}

function checkFileOffered(file: string, server: string, offered: readonly string[] | undefined): void {
  if (offered === undefined || offered.length === 0 || offered.includes(file)) return;
  const shown = offered.length > 20 ? `${offered.slice(0, 20).join(', ')} and ${offered.length - 20} more` : offered.join(', ');
  throw new UnknownFileError(`server ${server} has no file '${file}' (--file); it serves: ${shown}`);
}

/** Refused before measuring: the server does not offer what was asked (upload from an older server). */
export class UnsupportedError extends UsageError {}
