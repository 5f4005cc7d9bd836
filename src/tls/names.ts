/**
 * Names that go into certificates: client names (also file names under `clients/`) and server host
 * names, which become DNS or IP subjectAltName entries.
 */
import { isIP } from 'node:net';
import { CertError } from '../errors.js';

/** Client names become file names and CNs: no path separators, no leading dot, at most 64 chars. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63 characters. */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** Longest DNS name in text form, without the trailing dot. */
const MAX_DNS_NAME_CHARS = 253;

export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
}

export function assertClientName(name: string): void {
  if (!CLIENT_NAME_PATTERN.test(name)) {
    throw new CertError(`invalid client name '${name}': use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

/**
 * Canonical text of an IP literal: IPv4 unchanged, IPv6 as eight lower-case hex groups (embedded
 * IPv4 converted), so duplicates compare equal. Returns undefined for anything that is not an IP.
 */
export function canonicalIp(text: string): string | undefined {
  const version = isIP(text);
  if (version === 4) return text;
  if (version !== 6 || text.includes('%')) return undefined;
  let address = text.toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const octets = (dotted[2] ?? '').split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    address = `${dotted[1] ?? ''}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16)).join(':');
}

function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > MAX_DNS_NAME_CHARS) return false;
  const labels = bare.split('.');
  // A wildcard is allowed only as the whole left-most label of a name with at least two more labels.
  if (labels[0] === '*' && labels.length >= 3) labels.shift();
  return labels.every((label) => DNS_LABEL.test(label));
}

/**
 * Splits host names into DNS and IP SANs, always including localhost, 127.0.0.1 and ::1.
 * An IP literal (optionally in brackets) becomes an IP SAN; anything else must be a DNS name.
 */
export function serverAltNames(hosts: readonly string[]): SubjectAltNames {
  const dnsNames = new Set<string>(['localhost']);
  const ipAddresses = new Set<string>(['127.0.0.1', canonicalIp('::1') ?? '::1']);
  for (const raw of hosts) {
    const host = raw.trim();
    const unbracketed = /^\[(.*)\]$/.exec(host)?.[1] ?? host;
    const ip = canonicalIp(unbracketed);
    if (ip !== undefined) {
      ipAddresses.add(ip);
    } else if (isDnsName(host)) {
      dnsNames.add(host.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new CertError(`invalid host '${raw}': expected a DNS name or an IP address`);
    }
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}
