import type { Command } from 'commander';
import { initCa, issueClientCert, refreshCrl, revokeClientCert } from '../tls/ca.js';
import { certsClientTable, certsCrlTable, certsInitTable, certsRevokeTable } from './options/certs.js';
import { resolveOptions } from './options/resolve.js';
import { addOptions } from './options/table.js';

function printWritten(paths: readonly string[]): void {
  for (const path of paths) process.stdout.write(`wrote ${path}\n`);
}

/** `netprobe certs init`, `certs client NAME`, `certs revoke NAME` and `certs crl`. */
export function registerCerts(program: Command): void {
  const certs = program
    .command('certs')
    .description('create the private CA, the server certificate and client certificates')
    .exitOverride();

  addOptions(
    certs.command('init').description('create a CA (ca.crt, ca.key) and a server certificate (server.crt, server.key)'),
    certsInitTable,
  )
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      const options = resolveOptions(certsInitTable, { flags: opts }) as { dir: string; host?: string[]; force?: boolean };
      const paths = await initCa({ dir: options.dir, hosts: options.host ?? [], force: options.force === true });
      printWritten([paths.caCert, paths.caKey, paths.serverCert, paths.serverKey]);
    });

  addOptions(
    certs.command('client').description('issue a client certificate clients/NAME.crt and clients/NAME.key signed by the CA'),
    certsClientTable,
  )
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => {
      const options = resolveOptions(certsClientTable, { flags: opts }) as { dir: string; force?: boolean };
      const paths = await issueClientCert({ dir: options.dir, name, force: options.force === true });
      printWritten([paths.cert, paths.key]);
    });

  addOptions(
    certs
      .command('revoke')
      .description('revoke clients/NAME.crt: add it to crl.pem (signed by the CA); a server run with --crl reloads it on SIGHUP'),
    certsRevokeTable,
  )
    .exitOverride()
    .action(async (name: string, opts: Record<string, unknown>) => {
      const options = resolveOptions(certsRevokeTable, { flags: opts }) as { dir: string; days: number };
      const r = await revokeClientCert({ dir: options.dir, name, validDays: options.days });
      printWritten([r.crl]);
      process.stdout.write(`revoked ${name}: serial ${r.serialNumber}, sha256 ${r.fingerprint256} (${r.revoked} revoked in all)\n`);
    });

  addOptions(
    certs.command('crl').description('create or re-sign crl.pem with the certificates it already lists (renews its validity)'),
    certsCrlTable,
  )
    .exitOverride()
    .action(async (opts: Record<string, unknown>) => {
      const options = resolveOptions(certsCrlTable, { flags: opts }) as { dir: string; days: number };
      const r = await refreshCrl({ dir: options.dir, validDays: options.days });
      printWritten([r.crl]);
      process.stdout.write(`${r.revoked} revoked certificate(s) listed\n`);
    });
}
