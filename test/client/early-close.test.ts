/**
 * A close before any answer to HELLO: a refused certificate (immediate) or the server's handshake
 * deadline passing while the client was slow (seconds later). The 1,000-client soak in test:long
 * stored ~1,000 NETPROBE_TLS_UNAUTHORIZED failures ("it most likely refused our certificate") when
 * its single client process could not finish handshakes within the server's 10 s deadline.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LATE_CLOSE_MS, explainEarlyClose, openSession } from '../../src/client/session.js';
import { ConnectionError, ErrorCodes } from '../../src/errors.js';
import { clientFixture } from './helpers/setup.js';
import { FakeServer } from './helpers/fake-server.js';

const refused = () =>
  new ConnectionError(
    ErrorCodes.tlsUnauthorized,
    'server 127.0.0.1:1 closed the connection right after the TLS handshake without answering HELLO: …',
  );

test('explainEarlyClose: a quick close stays a refused certificate; a late one is the handshake deadline', () => {
  assert.equal((explainEarlyClose(refused(), 40, 'server 127.0.0.1:1') as ConnectionError).code, ErrorCodes.tlsUnauthorized);
  const late = explainEarlyClose(refused(), 9_800, 'server 127.0.0.1:1') as ConnectionError;
  assert.equal(late.code, ErrorCodes.tlsHandshake);
  assert.equal(
    late.message,
    "server 127.0.0.1:1 closed the connection 9.8 s after it was opened, before answering HELLO: the server's TLS handshake deadline (its --handshake-timeout, 10s by default) most likely passed while this side or the path was slow",
  );
  const other = new ConnectionError(ErrorCodes.closed, 'closed');
  assert.equal(explainEarlyClose(other, 60_000, 'x'), other, 'other failures pass through');
});

test(
  'over real TLS: a server that hangs up on HELLO at once is TLS_UNAUTHORIZED; after the deadline, TLS_HANDSHAKE',
  { timeout: 60_000 },
  async (t) => {
    const fx = await clientFixture();
    t.after(() => fx.cleanup());
    const hangUpAfter = async (ms: number) => {
      const server = await FakeServer.start({
        tls: fx.server,
        onHello: async (_m, conn) => {
          await new Promise((r) => setTimeout(r, ms));
          conn.socket.destroy();
        },
      });
      t.after(() => server.close());
      return openSession({ endpoint: server.endpoint, tls: fx.client }).then(
        ({ session }) => session.close(),
        (err: unknown) => err,
      );
    };
    const [quick, late] = await Promise.all([hangUpAfter(0), hangUpAfter(LATE_CLOSE_MS + 300)]);
    assert.equal((quick as ConnectionError).code, ErrorCodes.tlsUnauthorized);
    assert.equal((late as ConnectionError).code, ErrorCodes.tlsHandshake);
    assert.match((late as Error).message, /handshake deadline/);
  },
);
