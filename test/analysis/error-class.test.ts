import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NON_NETWORK_CODES, errorClass, excludedFindings, groupExcluded } from '../../src/analysis/error-class.js';
import { ErrorCodes } from '../../src/errors.js';

test('one rule classes every error code: network, server or setup; unknown codes stay network', () => {
  const expected: Record<string, 'network' | 'server' | 'setup'> = {
    NETPROBE_CONNECT_TIMEOUT: 'network',
    NETPROBE_CONNECT_REFUSED: 'network',
    NETPROBE_CONNECT: 'network',
    NETPROBE_DNS: 'network',
    NETPROBE_TLS_HANDSHAKE: 'network',
    NETPROBE_TIMEOUT: 'network',
    NETPROBE_CONNECTION_CLOSED: 'network',
    NETPROBE_INTEGRITY: 'network',
    NETPROBE_PROTOCOL: 'network',
    NETPROBE_FRAME_TOO_LARGE: 'network',
    NETPROBE_UNKNOWN_TYPE: 'network',
    NETPROBE_BAD_PAYLOAD: 'network',
    NETPROBE_UNEXPECTED_MESSAGE: 'network',
    NETPROBE_INTERNAL: 'network',
    NETPROBE_BUSY: 'server',
    NETPROBE_STORAGE: 'server',
    NETPROBE_SHUTTING_DOWN: 'server',
    NETPROBE_LIMIT: 'server',
    NETPROBE_TLS_UNAUTHORIZED: 'setup',
    NETPROBE_NOT_FOUND: 'setup',
    NETPROBE_IDENTITY: 'setup',
    NETPROBE_CERT: 'setup',
    NETPROBE_PROTOCOL_VERSION: 'setup',
    NETPROBE_CONFIG: 'setup',
    NETPROBE_USAGE: 'setup',
  };
  // Every code the project has is decided here (a new code must be added on purpose).
  assert.deepEqual(Object.values(ErrorCodes).sort(), Object.keys(expected).sort());
  for (const [code, cls] of Object.entries(expected)) assert.equal(errorClass(code), cls, code);
  assert.equal(errorClass('SOMETHING_NEW'), 'network');
  assert.equal(errorClass(null), null);
  assert.deepEqual(
    [...NON_NETWORK_CODES].sort(),
    Object.keys(expected)
      .filter((c) => expected[c] !== 'network')
      .sort(),
  );
});

test('left-out failures are grouped per client and code, with one finding each', () => {
  const groups = groupExcluded([
    { client: 'bob', code: 'NETPROBE_BUSY', startedAtMs: 3_000 },
    { client: 'alice', code: 'NETPROBE_TLS_UNAUTHORIZED', startedAtMs: 2_000 },
    { client: 'alice', code: 'NETPROBE_TLS_UNAUTHORIZED', startedAtMs: 1_000 },
    { client: 'alice', code: 'NETPROBE_TLS_UNAUTHORIZED', startedAtMs: 5_000 },
  ]);
  assert.deepEqual(groups, [
    {
      client: 'alice',
      errorClass: 'setup',
      code: 'NETPROBE_TLS_UNAUTHORIZED',
      count: 3,
      first: '1970-01-01T00:00:01.000Z',
      last: '1970-01-01T00:00:05.000Z',
    },
    {
      client: 'bob',
      errorClass: 'server',
      code: 'NETPROBE_BUSY',
      count: 1,
      first: '1970-01-01T00:00:03.000Z',
      last: '1970-01-01T00:00:03.000Z',
    },
  ]);
  const [alice, bob] = excludedFindings(groups);
  assert.equal(alice?.kind, 'setup-failures');
  assert.match(alice?.message ?? '', /^3 runs failed because TLS authentication failed: the server's certificate is not trusted by --ca/);
  assert.equal(bob?.kind, 'server-failures');
  assert.match(bob?.message ?? '', /^1 run failed because the server was busy/);
});
