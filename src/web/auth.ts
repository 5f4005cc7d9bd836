import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/** 256 random bits, base64url (a valid RFC 6750 token and cookie value). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export type AuthMethod = 'bearer' | 'cookie' | 'certificate';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Who may read the endpoint: a request with the bearer token (Authorization header, or the cookie
 * the page gets after opening `/?token=…` once), or one that came over HTTPS with a client
 * certificate signed by the project CA and not revoked (the server's current CRL and deny list, so
 * a SIGHUP reload applies at once). Tokens are compared in constant time.
 */
export class Authenticator {
  private readonly expected: Buffer;

  constructor(
    token: string,
    /** Cookies are not separated by port: the name carries it so two servers on one host do not clash. */
    readonly cookieName: string,
    private readonly secure: boolean,
    /** Why a client certificate is revoked (deny list or CRL), or undefined when it is not. */
    private readonly revokedBy: (cert: PeerCertificate) => string | undefined = () => undefined,
  ) {
    this.expected = digest(token);
  }

  matches(candidate: string | undefined | null): boolean {
    return typeof candidate === 'string' && candidate.length > 0 && timingSafeEqual(digest(candidate), this.expected);
  }

  check(req: IncomingMessage): AuthMethod | null {
    const header = req.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      return m && this.matches(m[1]) ? 'bearer' : null;
    }
    if (this.matches(readCookie(req.headers.cookie, this.cookieName))) return 'cookie';
    const socket = req.socket as Partial<TLSSocket>;
    if (socket.encrypted === true && socket.authorized === true && socket.getPeerCertificate !== undefined) {
      return this.revokedBy(socket.getPeerCertificate()) === undefined ? 'certificate' : null;
    }
    return null;
  }

  /** Set-Cookie value carrying the token: HttpOnly (no script reads it), same-site only, session-long. */
  cookie(token: string): string {
    return `${this.cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict${this.secure ? '; Secure' : ''}`;
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
