/**
 * The simulator's reporting identity (ReportDelegation): one certificate reports for virtual
 * clients named with a prefix, only on a server started in-process with the delegation; nobody
 * else gains anything from it.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { type CertDir, makeCertDir } from './helpers.js';

async function report(server: RunningServer, certs: CertDir, as: string, claim: string | undefined) {
  const c = await WireClient.connect(server.port, { ca: certs.paths.caCert, ...certs.client(as) });
  try {
    await c.hello();
    const result = sampleResult(claim === undefined ? {} : { client: claim });
    c.send({ type: 'REPORT', results: [result] });
    const reply = await c.next();
    return { reply, id: result.id };
  } finally {
    c.close();
  }
}

describe('simulator delegation', () => {
  let certs: CertDir;
  let delegating: RunningServer;
  let plain: RunningServer;
  const annotated: string[] = [];

  before(async () => {
    certs = await makeCertDir(['netprobe-simulator', 'alice']);
    const config = {
      host: '127.0.0.1',
      port: 0,
      ca: certs.paths.caCert,
      cert: certs.paths.serverCert,
      key: certs.paths.serverKey,
      store: ':memory:',
      builtinFiles: ['1KiB'],
      statsIntervalMs: 0,
    };
    delegating = await startServer(config, {
      delegation: {
        reporter: 'netprobe-simulator',
        clientPrefix: 'sim-',
        annotate: (client) => {
          annotated.push(client);
          return { serverConcurrentTransfers: 7, serverOutboundMbps: 12.5 };
        },
      },
    });
    plain = await startServer(config);
  });
  after(async () => {
    await delegating.close(1000);
    await plain.close(1000);
    await certs.cleanup();
  });

  test("the simulator certificate stores a result under the virtual client it names, with the model's server load", async () => {
    const { reply, id } = await report(delegating, certs, 'netprobe-simulator', 'sim-0042');
    assert.equal(reply?.type, 'ACK');
    const rows = [];
    for await (const r of delegating.store.iterateResults()) if (r.id === id) rows.push(r);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.client, 'sim-0042');
    assert.equal(rows[0]!.serverConcurrentTransfers, 7);
    assert.deepEqual(annotated, ['sim-0042']);
  });

  test('the simulator certificate cannot name a client outside its prefix, nor leave the name out', async () => {
    for (const claim of ['alice', 'sim-', 'Sim-1', undefined]) {
      const { reply, id } = await report(delegating, certs, 'netprobe-simulator', claim);
      assert.ok(reply?.type === 'ERROR', `claim ${String(claim)}`);
      assert.equal(reply.code, 'NETPROBE_IDENTITY');
      assert.equal(await delegating.store.hasResult(id), false);
    }
  });

  test('another client cannot use the prefix; a server without the delegation refuses the simulator too', async () => {
    const alice = await report(delegating, certs, 'alice', 'sim-1');
    assert.ok(alice.reply?.type === 'ERROR' && alice.reply.code === 'NETPROBE_IDENTITY');
    const sim = await report(plain, certs, 'netprobe-simulator', 'sim-1');
    assert.ok(sim.reply?.type === 'ERROR' && sim.reply.code === 'NETPROBE_IDENTITY');
    const own = await report(plain, certs, 'netprobe-simulator', undefined);
    assert.equal(own.reply?.type, 'ACK');
  });
});
