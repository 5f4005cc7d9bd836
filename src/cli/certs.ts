import type { Command } from 'commander';
import { initCa, issueClientCert, refreshCrl, revokeClientCert } from '../tls/ca.js';
import { DEFAULT_CRL_VALID_DAYS } from '../tls/crl.js';
import { parseInteger } from '../units.js';

const DEFAULT_DIR = 'certs';

interface InitOptions {
  dir: string;
  host: string[];
  force: boolean;
}

interface ClientOptions {
  dir: string;
  force: boolean;
}

interface CrlCommandOptions {
  dir: string;
  days: number;
}

const days = (text: string): number => parseInteger(text, 'CRL validity (days)', 1, 36_500);

/** --host may be repeated and may hold a comma-separated list. */
function collectHosts(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(',').map((host) => host.trim()).filter((host) => host !== '')];
}

function printWritten(paths: readonly string[]): void {
  for (const path of paths) process.stdout.write(`wrote ${path}\n`);
}

/** `netprobe certs init` and `netprobe certs client NAME`. */
export function registerCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description('create the private CA, the server certificate and client certificates')
    .exitOverride();

  certs
    .command('init')
    .description('create a CA (ca.crt, ca.key) and a server certificate (server.crt, server.key)')
    .option('--dir <dir>', 'certificate directory', DEFAULT_DIR)
    .option(
      '--host <name>',
      'server DNS name or IP address for the certificate, repeatable; the first is the CN (localhost, 127.0.0.1 and ::1 are always included)',
      collectHosts,
      [],
    )
    .option('--force', 'overwrite existing files', false)
    .exitOverride()
    .action(async (options: InitOptions) => {
      const paths = await initCa({ dir: options.dir, hosts: options.host, force: options.force });
      printWritten([paths.caCert, paths.caKey, paths.serverCert, paths.serverKey]);
    });

  certs
    .command('client')
    .description('issue a client certificate clients/NAME.crt and clients/NAME.key signed by the CA')
    .argument('<name>', 'client name (CN): letters, digits, ".", "_" and "-", at most 64 characters')
    .option('--dir <dir>', 'certificate directory holding ca.crt and ca.key', DEFAULT_DIR)
    .option('--force', 'overwrite existing files', false)
    .exitOverride()
    .action(async (name: string, options: ClientOptions) => {
      const paths = await issueClientCert({ dir: options.dir, name, force: options.force });
      printWritten([paths.cert, paths.key]);
    });

  certs
    .command('revoke')
    .description('revoke clients/NAME.crt: add it to crl.pem (signed by the CA); a server run with --crl reloads it on SIGHUP')
    .argument('<name>', 'client name (CN)')
    .option('--dir <dir>', 'certificate directory holding ca.crt and ca.key', DEFAULT_DIR)
    .option('--days <n>', `CRL validity in days; every client is refused once it lapses (default ${DEFAULT_CRL_VALID_DAYS})`, days, DEFAULT_CRL_VALID_DAYS)
    .exitOverride()
    .action(async (name: string, options: CrlCommandOptions) => {
      const r = await revokeClientCert({ dir: options.dir, name, validDays: options.days });
      printWritten([r.crl]);
      process.stdout.write(`revoked ${name}: serial ${r.serialNumber}, sha256 ${r.fingerprint256} (${r.revoked} revoked in all)\n`);
    });

  certs
    .command('crl')
    .description('create or re-sign crl.pem with the certificates it already lists (renews its validity)')
    .option('--dir <dir>', 'certificate directory holding ca.crt and ca.key', DEFAULT_DIR)
    .option('--days <n>', `CRL validity in days (default ${DEFAULT_CRL_VALID_DAYS})`, days, DEFAULT_CRL_VALID_DAYS)
    .exitOverride()
    .action(async (options: CrlCommandOptions) => {
      const r = await refreshCrl({ dir: options.dir, validDays: options.days });
      printWritten([r.crl]);
      process.stdout.write(`${r.revoked} revoked certificate(s) listed\n`);
    });
}
