import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { encodeFrame, FrameType } from '../../src/protocol/frame.js';
import { WireClient, sampleResult } from '../helpers/wire.js';
import { type WebFixture, bearer, request, startWebFixture } from './helpers.js';

/** The value of one sample line (`name{labels} value`) in the text exposition, or undefined. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The sum over every label set of a metric. */
function total(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('/metrics', () => {
  let f: WebFixture;
  let text: string;

  before(async () => {
    f = await startWebFixture(['alice', 'bob']);
    const stored = await f.measure('alice', { throughputMbps: 250, responseMs: 3 });
    await f.report('alice', [stored]); // a re-send: a duplicate
    const c = await WireClient.connect(f.server.port, { ca: f.pki.ca, ...f.pki.clients.bob! });
    await c.hello();
    c.send({ type: 'REPORT', results: [sampleResult({ client: 'alice' }), sampleResult({ client: 'alice' })] });
    assert.equal((await c.next())?.type, 'ERROR');
    c.close();
    const d = await WireClient.connect(f.server.port, { ca: f.pki.ca, ...f.pki.clients.bob! });
    await d.hello();
    d.sendRaw(encodeFrame(FrameType.REPORT, Buffer.from('{"results":[{"id":1}]}')));
    assert.equal((await d.next())?.type, 'ERROR');
    d.close();
    // TLS 1.3: the client may finish its side before the server refuses the certificate.
    await assert.rejects(async () => {
      const s = await WireClient.connect(f.server.port, { ca: f.pki.ca, cert: f.pki.stranger.cert, key: f.pki.stranger.key });
      await s.hello();
      await s.closed();
      throw s.error ?? new Error('closed');
    });
    const r = await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    text = r.body;
  });
  after(() => f.close());

  test('transfers and bytes', () => {
    assert.equal(sample(text, 'netprobe_transfers_total{mode="file",outcome="ok"}'), 1);
    assert.equal(sample(text, 'netprobe_bytes_sent_total'), 65_536);
    assert.equal(sample(text, 'netprobe_transfer_duration_seconds_count{mode="file"}'), 1);
  });

  test('reports and results: received, stored, duplicate, rejected by reason', () => {
    assert.equal(sample(text, 'netprobe_reports_received_total'), 4);
    assert.equal(sample(text, 'netprobe_results_received_total'), 4);
    assert.equal(sample(text, 'netprobe_results_stored_total'), 1);
    assert.equal(sample(text, 'netprobe_results_duplicate_total'), 1);
    assert.equal(sample(text, 'netprobe_reports_rejected_total{reason="NETPROBE_IDENTITY"}'), 1);
    assert.equal(sample(text, 'netprobe_results_rejected_total{reason="NETPROBE_IDENTITY"}'), 2);
    assert.equal(sample(text, 'netprobe_reports_rejected_total{reason="NETPROBE_BAD_PAYLOAD"}'), 1);
    assert.equal(sample(text, 'netprobe_errors_sent_total{code="NETPROBE_IDENTITY"}'), 1);
  });

  test('client-reported throughput and response time, duplicates counted once', () => {
    // 250 Mbit/s = 31.25 MB/s
    assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_count'), 1);
    assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_sum'), 31_250_000);
    assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_bucket{le="31250000"}'), 1);
    assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_bucket{le="12500000"}'), 0);
    assert.equal(sample(text, 'netprobe_result_response_seconds_sum'), 0.003);
    assert.ok(sample(text, 'netprobe_client_last_result_timestamp_seconds{client="alice"}')! > Date.now() / 1000 - 60);
    assert.equal(sample(text, 'netprobe_client_last_throughput_bytes_per_second{client="alice"}'), 31_250_000);
  });

  test('TLS handshake failures by reason, connections and gauges', () => {
    assert.equal(total(text, 'netprobe_tls_handshake_failures_total'), 1);
    assert.match(text, /netprobe_tls_handshake_failures_total\{reason="[A-Za-z0-9_]+"\} 1/);
    assert.equal(sample(text, 'netprobe_connections_accepted_total'), 4);
    assert.equal(sample(text, 'netprobe_concurrent_transfers'), 0);
    assert.equal(sample(text, 'netprobe_max_concurrent_transfers'), 256);
    assert.ok(sample(text, 'process_cpu_seconds_total')! >= 0, 'default process metrics');
  });

  test('every netprobe metric has HELP and TYPE', () => {
    const names = new Set([...text.matchAll(/^(netprobe_[a-z_]+?)(?:_bucket|_sum|_count)?[{ ]/gm)].map((m) => m[1]!));
    for (const name of names) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      assert.match(text, new RegExp(`^# HELP ${base} \\S`, 'm'), base);
      assert.match(text, new RegExp(`^# TYPE ${base} (counter|gauge|histogram)$`, 'm'), base);
    }
  });
});

test('each server has its own registry', async (t) => {
  const one = await startWebFixture(['alice']);
  t.after(() => one.close());
  const two = await startWebFixture(['alice']);
  t.after(() => two.close());
  await one.measure('alice');
  const a = (await request(`${one.web.url}metrics`, { headers: bearer(one.web.token) })).body;
  const b = (await request(`${two.web.url}metrics`, { headers: bearer(two.web.token) })).body;
  assert.equal(sample(a, 'netprobe_results_stored_total'), 1);
  assert.equal(sample(b, 'netprobe_results_stored_total'), 0);
});

test('uploads (once each, also when re-sent) and RPM have series of their own; download throughput stays downloads only', async (t) => {
  const f = await startWebFixture(['alice', 'bob']);
  t.after(() => f.close());
  await f.measure('alice', { throughputMbps: 250, rpm: 3000, rpmProbes: 40 });
  const up = await f.measure('bob', { direction: 'upload', throughputMbps: 80, rpm: 600, rpmProbes: 38 });
  await f.report('bob', [up]); // a re-send: a duplicate, counted once
  // An older upload arriving late (an outbox) does not overwrite bob's latest figures.
  await f.measure('bob', { direction: 'upload', throughputMbps: 10, rpm: 100, rpmProbes: 5, startedAt: '2020-01-01T00:00:00.000Z' });
  const text = (await request(`${f.web.url}metrics`, { headers: bearer(f.web.token) })).body;
  // Downloads: 250 Mbit/s = 31.25 MB/s; uploads: 80 + 10 Mbit/s = 11.25 MB/s.
  assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_count'), 1);
  assert.equal(sample(text, 'netprobe_result_throughput_bytes_per_second_sum'), 31_250_000);
  assert.equal(sample(text, 'netprobe_result_upload_throughput_bytes_per_second_count'), 2);
  assert.equal(sample(text, 'netprobe_result_upload_throughput_bytes_per_second_sum'), 11_250_000);
  assert.equal(sample(text, 'netprobe_result_responsiveness_rpm_count{direction="download"}'), 1);
  assert.equal(sample(text, 'netprobe_result_responsiveness_rpm_bucket{le="3000",direction="download"}'), 1);
  assert.equal(sample(text, 'netprobe_result_responsiveness_rpm_bucket{le="2000",direction="download"}'), 0);
  assert.equal(sample(text, 'netprobe_result_responsiveness_rpm_sum{direction="upload"}'), 700);
  assert.equal(sample(text, 'netprobe_client_last_upload_throughput_bytes_per_second{client="bob"}'), 10_000_000);
  assert.equal(sample(text, 'netprobe_client_last_upload_throughput_bytes_per_second{client="alice"}'), undefined);
  assert.equal(sample(text, 'netprobe_client_last_responsiveness_rpm{client="alice",direction="download"}'), 3000);
  assert.equal(sample(text, 'netprobe_client_last_responsiveness_rpm{client="bob",direction="upload"}'), 600);
  assert.equal(sample(text, 'netprobe_client_throughput_bytes_per_second_count{client="bob"}'), undefined);
  assert.equal(sample(text, 'netprobe_client_throughput_bytes_per_second_count{client="alice"}'), 1);
});
