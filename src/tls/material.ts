/** TLS material: what is read from the --ca, --cert and --key files (options.ts loads it, check.ts checks it). */

/** PEM contents: trusted CA certificate(s), own certificate chain, own private key. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export interface TlsMaterialPaths {
  ca: string;
  cert: string;
  key: string;
}
