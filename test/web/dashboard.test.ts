/**
 * The dashboard in a real browser: headless Chromium opens the page of a real server that real
 * (wire-level) clients download from and report to, sees the client table, then sees a new result
 * arrive over Server-Sent Events without a reload, and switches the window's direction (download,
 * upload) with the selector. Screenshots go to artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { WireClient } from '../helpers/wire.js';
import { makeHistory } from './history.js';
import { ROOT, buildAssets, request, requireTool, startWebFixture } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

test('dashboard: client table, a live result without reload, no console errors, 401 without the token', async (t) => {
  const executablePath = await requireTool(CHROMIUM, 'install the Debian chromium package to run the browser test');
  if (!executablePath) return t.skip('chromium is not installed');
  const artifacts = join(ROOT, 'artifacts');
  await mkdir(artifacts, { recursive: true });

  const assets = await buildAssets();
  const history = makeHistory(Date.now());
  const fixture = await startWebFixture([...history.keys()], {}, { assetsDir: assets.dir });
  const browser = await chromium.launch({ executablePath, args: ARGS });
  t.after(async () => {
    await browser.close();
    await fixture.close();
    await assets.cleanup();
  });
  // Real clients: each reports its history in one REPORT, then downloads a test file and reports that.
  for (const [client, results] of history) {
    const last = results.pop()!;
    await fixture.report(client, results);
    await fixture.measure(client, last);
  }

  const base = fixture.web.url;
  const unauthenticated = await request(`${base}api/snapshot`);
  assert.equal(unauthenticated.status, 401);
  assert.match(String(unauthenticated.headers['www-authenticate']), /^Bearer/);

  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));

  const opened = await page.goto(`${base}?token=${encodeURIComponent(fixture.web.token)}`);
  assert.equal(opened?.status(), 200);
  assert.equal(new URL(page.url()).search, '', 'the token is taken out of the address bar');
  for (const client of history.keys()) await page.locator(`#clients-body tr[data-client="${client}"]`).waitFor();
  await page.locator('#conn.live').waitFor();
  await page.locator('#alerts .alert').first().waitFor();
  assert.match(await page.locator('#clients-body tr[data-client="carol-home"] .badge').innerText(), /congested/);
  assert.match(await page.locator('#clients-body tr[data-client="dave-branch"] .badge').innerText(), /silent/);

  // Marks this document: a reload would lose it.
  await page.evaluate('window.keptAcrossEvents = true');
  const live = await fixture.measure('alice-lab', { throughputMbps: 912.3, rpm: 1450, rpmProbes: 40 });
  const row = page.locator(`#feed li[data-id="${live.id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /alice-lab[\s\S]*912 Mbit\/s[\s\S]*1450 RPM/);
  // An upload shows in the feed, marked, with its RPM; it stays out of the window's rules.
  const up = await fixture.measure('bob-office', { direction: 'upload', throughputMbps: 48.5, rpm: 620, rpmProbes: 30 });
  const upRow = page.locator(`#feed li[data-id="${up.id}"][data-direction="upload"]`);
  await upRow.waitFor();
  assert.match(await upRow.innerText(), /bob-office ↑[\s\S]*48\.5 Mbit\/s[\s\S]*620 RPM[\s\S]*upload/);
  assert.equal(await page.evaluate('window.keptAcrossEvents'), true, 'the page was not reloaded');
  // The direction selector: the upload window holds bob-office's upload only (its own client table,
  // by the same rules); back to download, every client is there again.
  await page.selectOption('#direction', 'upload');
  await page.locator('#clients-body tr[data-client="alice-lab"]').waitFor({ state: 'detached' });
  assert.deepEqual(await page.locator('#clients-body tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-client'))), [
    'bob-office',
  ]);
  const uploadsAfter = await fixture.measure('alice-lab', { direction: 'upload', throughputMbps: 77.7, rpm: 700, rpmProbes: 30 });
  await page.locator(`#feed li[data-id="${uploadsAfter.id}"][data-direction="upload"]`).waitFor();
  await page.locator('#clients-body tr[data-client="alice-lab"]').waitFor();
  await page.selectOption('#direction', 'download');
  for (const client of history.keys()) await page.locator(`#clients-body tr[data-client="${client}"]`).waitFor();
  assert.match(await page.locator('#clients-body tr[data-client="carol-home"] .badge').innerText(), /congested/);
  // A transfer in progress shows under "Current transfers" (pushed every 2 s).
  const downloader = await WireClient.connect(fixture.server.port, { ca: fixture.pki.ca, ...fixture.pki.clients['bob-office']! });
  t.after(() => downloader.close());
  await downloader.hello();
  downloader.send({ type: 'GET_FILE', name: '64KiB', durationMs: 60_000 });
  await page.locator('#transfers-body td.name', { hasText: 'bob-office' }).waitFor();

  await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: true });
  await page.locator('#clients-body tr[data-client="alice-lab"]').click();
  await page.locator('#clients-body tr.selected[data-client="alice-lab"]').waitFor();

  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#chart canvas').waitFor();
  // The chart takes the new width on its resize event, which a busy machine delivers late: wait for
  // the page to fit (at most 10 s), then measure; a page that never fits still fails below.
  await page
    .waitForFunction('document.documentElement.scrollWidth <= window.innerWidth', undefined, { timeout: 10_000 })
    .catch(() => undefined);
  const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
  assert.ok(overflow <= 0, `no sideways scrolling on a phone-sized screen (${overflow}px too wide)`);
  await page.screenshot({ path: join(artifacts, 'dashboard-phone.png'), fullPage: true });
  downloader.close();
  assert.deepEqual(problems, []);
  await context.close();

  // A browser without the token gets the sign-in page, with 401.
  const stranger = await browser.newContext();
  const signIn = await (await stranger.newPage()).goto(base);
  assert.equal(signIn?.status(), 401);
  await stranger.close();
});
