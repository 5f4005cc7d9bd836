/**
 * Typed errors. Every error netprobe raises on purpose carries a stable `code` (part of the public
 * interface: logs, ERROR frames, stored failed results and exit messages use it) and keeps `cause`.
 */

export const ErrorCodes = {
  internal: 'NETPROBE_INTERNAL',
  usage: 'NETPROBE_USAGE',
  config: 'NETPROBE_CONFIG',
  protocol: 'NETPROBE_PROTOCOL',
  protocolVersion: 'NETPROBE_PROTOCOL_VERSION',
  frameTooLarge: 'NETPROBE_FRAME_TOO_LARGE',
  unknownType: 'NETPROBE_UNKNOWN_TYPE',
  badPayload: 'NETPROBE_BAD_PAYLOAD',
  unexpectedMessage: 'NETPROBE_UNEXPECTED_MESSAGE',
  connectTimeout: 'NETPROBE_CONNECT_TIMEOUT',
  connectRefused: 'NETPROBE_CONNECT_REFUSED',
  connect: 'NETPROBE_CONNECT',
  dns: 'NETPROBE_DNS',
  tlsHandshake: 'NETPROBE_TLS_HANDSHAKE',
  tlsUnauthorized: 'NETPROBE_TLS_UNAUTHORIZED',
  timeout: 'NETPROBE_TIMEOUT',
  closed: 'NETPROBE_CONNECTION_CLOSED',
  busy: 'NETPROBE_BUSY',
  notFound: 'NETPROBE_NOT_FOUND',
  identity: 'NETPROBE_IDENTITY',
  limit: 'NETPROBE_LIMIT',
  integrity: 'NETPROBE_INTEGRITY',
  storage: 'NETPROBE_STORAGE',
  cert: 'NETPROBE_CERT',
  shuttingDown: 'NETPROBE_SHUTTING_DOWN',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class NetprobeError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The user gave the CLI something it cannot use (exit status 2). */
export class UsageError extends NetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.usage, message, options);
  }
}

export class ConfigError extends NetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.config, message, options);
  }
}

/** A peer sent bytes that break the wire protocol. `code` narrows the kind. */
export class ProtocolError extends NetprobeError {
  constructor(code: ErrorCode = ErrorCodes.protocol, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Socket-level failures: DNS, connect, TLS, timeouts, closed connections. */
export class ConnectionError extends NetprobeError {}

/** The remote side answered with an ERROR or BUSY frame. */
export class RemoteError extends NetprobeError {
  readonly retryAfterMs: number | undefined;

  constructor(code: string, message: string, retryAfterMs?: number) {
    super(code, message);
    this.retryAfterMs = retryAfterMs;
  }
}

export class StorageError extends NetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.storage, message, options);
  }
}

export class CertError extends NetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.cert, message, options);
  }
}

export class IntegrityError extends NetprobeError {
  constructor(message: string) {
    super(ErrorCodes.integrity, message);
  }
}

/** Best-effort stable code for any thrown value. */
export function errorCode(err: unknown): string {
  if (err instanceof NetprobeError) return err.code;
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return ErrorCodes.internal;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
