/**
 * Start-up validation (issue 15), through the built CLI: the server and the client refuse TLS
 * material that cannot work (a key as --ca, a leaf certificate as --ca, a key that is not the
 * certificate's, an expired or not yet valid certificate) with one line naming the file; the server
 * warns when its certificate does not cover --server-id.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { createCa, issueCert } from '../../src/tls/pki.js';
import { makePki } from '../helpers/pki.js';
import { runCli } from '../helpers/process.js';
import { netprobe, tempDir } from './helpers.js';

const DAY = 86_400_000;

test('server and client refuse unusable TLS material in one line before opening anything; the server warns about names its certificate does not cover', async (t) => {
  const pki = await makePki(['alice']);
  t.after(() => pki.cleanup());
  const dir = await tempDir(t);
  const ca = await createCa();
  const write = async (name: string, cert: { certPem: string; keyPem: string }) => {
    await writeFile(join(dir, `${name}.crt`), cert.certPem);
    await writeFile(join(dir, `${name}.key`), cert.keyPem);
    return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  };
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  const expired = await write(
    'expired',
    await issueCert(ca, {
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      now: new Date(Date.now() - 30 * DAY),
      validDays: 2,
    }),
  );
  const future = await write(
    'future',
    await issueCert(ca, {
      commonName: 'localhost',
      usage: 'server',
      dnsNames: ['localhost'],
      now: new Date(Date.now() + 30 * DAY),
      validDays: 365,
    }),
  );
  const expiredClient = await write(
    'alice-expired',
    await issueCert(ca, { commonName: 'alice', usage: 'client', now: new Date(Date.now() - 30 * DAY), validDays: 2 }),
  );

  const store = join(dir, 'server.db');
  const server = (over: { ca?: string; cert?: string; key?: string }) =>
    netprobe([
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--workers',
      '1',
      '--ca',
      over.ca ?? pki.ca,
      '--cert',
      over.cert ?? pki.serverCert,
      '--key',
      over.key ?? pki.serverKey,
      '--store',
      store,
    ]);
  const cases: [string, Promise<{ code: number; stderr: string }>, RegExp][] = [
    [
      'a private key as --ca',
      server({ ca: pki.serverKey }),
      /^netprobe: --ca \S+server\.key holds no certificate \(it holds a private key\): give the CA certificate, e\.g\. certs\/ca\.crt \(NETPROBE_CERT\)\n$/,
    ],
    [
      'a leaf certificate as --ca',
      server({ ca: pki.serverCert }),
      /^netprobe: --ca \S+server\.crt is not a CA certificate \(it is the certificate of CN=localhost\)/,
    ],
    [
      "another certificate's key",
      server({ key: pki.clients.alice!.key }),
      /^netprobe: --key \S+alice\.key is not the private key of --cert \S+server\.crt \(NETPROBE_CERT\)\n$/,
    ],
    [
      'an expired certificate',
      server({ ca: join(dir, 'ca.crt'), ...expired }),
      /^netprobe: --cert \S+expired\.crt expired on \d{4}-\d{2}-\d{2}: issue a new certificate/,
    ],
    [
      'a certificate not valid yet',
      server({ ca: join(dir, 'ca.crt'), ...future }),
      /^netprobe: --cert \S+future\.crt is not valid before \d{4}-\d{2}-\d{2}/,
    ],
    [
      "client: a key that is not its certificate's",
      netprobe([
        'client',
        '--server',
        '127.0.0.1:1',
        '--ca',
        pki.ca,
        '--cert',
        pki.clients.alice!.cert,
        '--key',
        pki.serverKey,
        '--outbox',
        join(dir, 'outbox.db'),
        '--once',
      ]),
      /^netprobe: --key \S+server\.key is not the private key of --cert \S+alice\.crt/,
    ],
    [
      'client: an expired certificate',
      netprobe([
        'client',
        '--server',
        '127.0.0.1:1',
        '--ca',
        pki.ca,
        ...['--cert', expiredClient.cert, '--key', expiredClient.key],
        '--outbox',
        join(dir, 'outbox.db'),
        '--once',
      ]),
      /^netprobe: --cert \S+alice-expired\.crt expired on/,
    ],
    [
      'client: a certificate as --ca that is no CA',
      netprobe([
        'client',
        '--server',
        '127.0.0.1:1',
        '--ca',
        pki.clients.alice!.cert,
        '--cert',
        pki.clients.alice!.cert,
        '--key',
        pki.clients.alice!.key,
        '--outbox',
        join(dir, 'outbox.db'),
        '--once',
      ]),
      /^netprobe: --ca \S+alice\.crt is not a CA certificate/,
    ],
  ];
  for (const [name, running, message] of cases) {
    const run = await running;
    assert.equal(run.code, 1, `${name}: ${run.stderr}`);
    assert.match(run.stderr, message, name);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, `${name}: ${run.stderr}`);
  }
  assert.equal(existsSync(store), false, 'no store was created');
  assert.equal(existsSync(join(dir, 'outbox.db')), false, 'no outbox was created');

  const named = runCli([
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--workers',
    '1',
    '--ca',
    pki.ca,
    '--cert',
    pki.serverCert,
    '--key',
    pki.serverKey,
    '--store',
    store,
    '--server-id',
    'probe.example.net:7443',
    '--builtin-files',
    '1KiB',
  ]);
  t.after(() => void named.child.kill('SIGKILL'));
  const warning = await named.waitFor((l) => l.level === 40 && Array.isArray(l.names));
  assert.deepEqual(warning.names, ['probe.example.net']);
  assert.match(String(warning.msg), /does not cover probe\.example\.net: clients that reach the server by that name will refuse it/);
  await named.waitFor((l) => l.msg === 'listening');
});
