/**
 * What `netprobe client` prints for a person: the --once table and the scheduled client's line say
 * which direction a result measured and its responsiveness with what the RPM rests on.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RESULT_LINE_HEADER, formatResultLine, formatResultTable } from '../../src/client/format.js';
import { sampleResult } from '../helpers/wire.js';

/** The table's value for `key` (rows are `key  value`, keys padded to one width). */
function row(table: string, key: string): string | undefined {
  const line = table.split('\n').find((l) => l.startsWith(`${key}  `) || l.startsWith(`${key} `));
  return line?.slice(key.length).trim();
}

test('a download from a client before upload and RPM: direction download, no responsiveness', () => {
  const table = formatResultTable(sampleResult());
  assert.equal(row(table, 'direction'), 'download (server → client)');
  assert.equal(row(table, 'latency (download)'), '5.200 ms');
  assert.equal(row(table, 'responsiveness'), '-');
  assert.equal(row(table, 'TLS handshake'), '2.100 ms');
});

test('an upload: the receiver timed it, its RPM with the foreign and self probes, server-limited and resumed said', () => {
  const table = formatResultTable(
    sampleResult({
      direction: 'upload',
      sha256Ok: null,
      serverLimited: true,
      tlsResumed: true,
      rpm: 4904,
      rpmForeign: 7074,
      rpmProbes: 85,
      rpmSelf: 2734,
      rpmSelfProbes: 1,
    }),
  );
  assert.equal(row(table, 'direction'), 'upload (client → server, timed by the server)');
  assert.equal(row(table, 'latency (upload)'), '5.200 ms');
  assert.equal(row(table, 'latency (download)'), undefined);
  assert.equal(row(table, 'responsiveness'), '4904 RPM (foreign 7074 RPM of 85 probes; self 2734 RPM of 1 probe)');
  assert.equal(row(table, 'throughput'), '1747.6 Mbit/s (server-limited)');
  assert.equal(row(table, 'TLS handshake'), '2.100 ms (resumed session)');
  assert.equal(row(table, 'sha256'), '-');
});

test('responsiveness: a file-mode download has no self probes; a result before self-ping has foreign probes only', () => {
  const fileMode = sampleResult({ rpm: 13104, rpmForeign: 13104, rpmProbes: 86, rpmSelf: null, rpmSelfProbes: 0, tlsResumed: false });
  assert.equal(row(formatResultTable(fileMode), 'responsiveness'), '13104 RPM (foreign 13104 RPM of 86 probes; no self probes)');
  assert.equal(row(formatResultTable(fileMode), 'TLS handshake'), '2.100 ms (full handshake)');
  const beforeSelfPing = sampleResult({ rpm: 9788, rpmProbes: 2 });
  assert.equal(row(formatResultTable(beforeSelfPing), 'responsiveness'), '9788 RPM (foreign 9788 RPM of 2 probes)');
  const noProbeAnswered = sampleResult({ rpm: null, rpmProbes: 0 });
  assert.equal(row(formatResultTable(noProbeAnswered), 'responsiveness'), '- (0 probes)');
});

test("the loaded TCP RTT names the sending kernel and its retransmits; '-' from a server without tcp-info", () => {
  assert.equal(row(formatResultTable(sampleResult()), 'loaded TCP RTT'), '-');
  const download = sampleResult({ tcpRttMs: 1.234, tcpRetransmits: 0 });
  assert.equal(row(formatResultTable(download), 'loaded TCP RTT'), "1.234 ms (the sending server's kernel, 0 retransmits)");
  const upload = sampleResult({ direction: 'upload', tcpRttMs: 15.5, tcpRetransmits: 1 });
  assert.equal(row(formatResultTable(upload), 'loaded TCP RTT'), "15.5 ms (the sending client's kernel, 1 retransmit)");
  const unreadable = sampleResult({ tcpRttMs: null, tcpRetransmits: null });
  assert.equal(row(formatResultTable(unreadable), 'loaded TCP RTT'), "- (the sending server's kernel)");
});

test("the scheduled client's line: direction and RPM under their titles", () => {
  const header = RESULT_LINE_HEADER;
  const upload = formatResultLine(sampleResult({ direction: 'upload', rpm: 4904 }), 3);
  const download = formatResultLine(sampleResult(), 0);
  assert.match(header, /^time \(local\)\s+direction\s+file\s+throughput\s+response\s+idle RTT\s+loaded RTT\s+RPM\s+status$/);
  assert.match(
    upload,
    /^\d\d:\d\d:\d\d\s+upload\s+1MiB\s+1747\.6 Mbit\/s\s+0\.400 ms\s+0\.100 ms\s+0\.500 ms\s+4904 RPM\s+ok {2}queued: 3$/,
  );
  assert.match(download, /^\d\d:\d\d:\d\d\s+download\s+1MiB\s+1747\.6 Mbit\/s\s+0\.400 ms\s+0\.100 ms\s+0\.500 ms\s+-\s+ok$/);
  // Each cell starts where its title does.
  for (const [title, cell] of [
    ['direction', 'upload'],
    ['file', '1MiB'],
    ['status', 'ok'],
  ] as const) {
    assert.ok(upload.slice(header.indexOf(title)).startsWith(cell), `'${cell}' under '${title}':\n${header}\n${upload}`);
  }
});
