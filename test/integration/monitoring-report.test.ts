/**
 * Opens the rendered monitoring report in headless Chromium, driven by playwright-core (which
 * downloads no browser), and checks what a reader sees: title, drift table, charts, no errors, and
 * that the page fetches nothing but itself. The browser is the one test/provision/chromium.ts chose
 * (Debian's, or @sparticuz/chromium's unpacked into the project cache); a missing or broken Chromium
 * fails the test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderReportHtml } from '../../src/monitoring/report-html';
import type { MonitoringReport } from '../../src/monitoring/report-types';
import { SAMPLE_DRIFTED, sampleMonitoringReport } from '../fixtures/monitoring-report';

let browser: Browser;
let dir: string;

before(async () => {
  dir = fs.mkdtempSync(path.join(process.env.MLPIPE_TEST_TMP ?? os.tmpdir(), 'monitoring-report-'));
  const { MLPIPE_TEST_CHROMIUM, MLPIPE_TEST_CHROMIUM_LIBS, MLPIPE_TEST_CHROMIUM_FONTCONFIG } = process.env;
  assert.ok(
    MLPIPE_TEST_CHROMIUM,
    'MLPIPE_TEST_CHROMIUM is not set: run the tests with npm test, which provisions Chromium',
  );
  browser = await chromium.launch({
    executablePath: MLPIPE_TEST_CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    // Only the unpacked npm build needs these: its own NSS libraries and a fonts.conf naming its fonts.
    env: {
      ...process.env,
      ...(MLPIPE_TEST_CHROMIUM_LIBS && { LD_LIBRARY_PATH: MLPIPE_TEST_CHROMIUM_LIBS }),
      ...(MLPIPE_TEST_CHROMIUM_FONTCONFIG && { FONTCONFIG_FILE: MLPIPE_TEST_CHROMIUM_FONTCONFIG }),
    },
    timeout: 60_000,
  });
});

after(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  url: string;
  requests: string[];
  errors: string[];
}

/** Writes the report's page to the temp dir and opens it, recording every request and error. */
async function open(report: MonitoringReport, name: string): Promise<Opened> {
  const file = path.join(dir, `${name}.html`);
  fs.writeFileSync(file, renderReportHtml(report));
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => errors.push(`dialog: ${d.message()}`));
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, url, requests, errors };
}

describe('monitoring report in Chromium', () => {
  it('shows the verdict, the drift table, one histogram per feature and the performance chart', async () => {
    const report = sampleMonitoringReport();
    const { page, url, requests, errors } = await open(report, 'report');
    try {
      const title = await page.title();
      for (const part of ['flight-delay', '2001-06-01', '2001-06-30'])
        assert.ok(title.includes(part), `title "${title}" lacks ${part}`);

      const verdict = await page.locator('.verdict').innerText();
      assert.match(verdict, /Retraining started/);
      assert.ok(verdict.includes('retrain/flight-delay/2001-03-01_2001-06-30'));
      assert.equal(await page.locator('header a').getAttribute('href'), report.uiUrl);
      assert.equal(await page.locator('ul.alerts > li').count(), 2);

      const rows = page.locator('table.feature-drift tbody tr');
      assert.equal(await rows.count(), 6);
      const drifted = await page.locator('table.feature-drift tbody tr.drifted td:first-child').allInnerTexts();
      assert.deepEqual(drifted, SAMPLE_DRIFTED);
      for (const flag of await page.locator('table.feature-drift tr.drifted .flag').allInnerTexts())
        assert.equal(flag, 'yes');
      // A drifted row stands out: its background differs from a stable row's.
      const background = (selector: string) =>
        page
          .locator(selector)
          .first()
          .evaluate((td) => td.ownerDocument.defaultView.getComputedStyle(td).backgroundColor);
      assert.notEqual(await background('tr.drifted td'), await background('tr.stable td'));
      assert.equal(await page.locator('table.prediction-drift tbody tr.drifted').count(), 1);

      const histograms = page.locator('svg.histogram');
      assert.equal(await histograms.count(), 6);
      const charted = await histograms.evaluateAll((svgs) => svgs.map((s) => s.getAttribute('data-column')));
      assert.deepEqual(
        charted,
        report.drift.columns.map((c) => c.column),
      );
      for (const svg of await histograms.all()) {
        assert.ok((await svg.locator('rect').count()) > 2, 'a histogram without bars');
        assert.ok((await svg.boundingBox())!.width > 200, 'a histogram too narrow to read');
      }

      const chart = page.locator('svg.performance-chart');
      assert.equal(await chart.count(), 1);
      assert.equal(await chart.locator('circle').count(), report.performance!.byDay.length);
      assert.ok((await chart.locator('polyline').count()) >= 1);

      // Per segment: one row each; a fall below the reference reads as worse, a segment without labels as a dash.
      const segmentRows = await page
        .locator('table.segments tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
      assert.deepEqual(
        segmentRows.map((r) => r[0]),
        report.performance!.bySegment!.map((s) => s.name),
      );
      assert.equal(await page.locator('table.segments tbody tr:first-child .worse').count(), 1);
      assert.deepEqual(segmentRows[2]!.slice(3), ['–', '–']);

      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [url], 'the page fetched something besides itself');

      const png = path.join(dir, 'report.png');
      await page.screenshot({ path: png, fullPage: true });
      assert.ok(fs.statSync(png).size > 10 * 1024, 'the screenshot is suspiciously small');
    } finally {
      await page.close();
    }
  });

  it('renders hostile strings from the report as text, running and fetching nothing', async () => {
    const report = sampleMonitoringReport();
    report.model = '<script>alert(1)</script>';
    report.drift.columns[0]!.column = '"><img src=x onerror=alert(2)>';
    report.alerts[0]!.subject = '<b onmouseover=alert(3)>x</b>';
    const { page, url, requests, errors } = await open(report, 'hostile');
    try {
      assert.ok((await page.title()).includes('<script>alert(1)</script>'));
      assert.equal(await page.locator('script, img, b[onmouseover]').count(), 0);
      assert.equal(
        await page.locator('table.feature-drift tbody tr').first().locator('td').first().innerText(),
        report.drift.columns[0]!.column,
      );
      assert.deepEqual(errors, []);
      assert.deepEqual(requests, [url]);
    } finally {
      await page.close();
    }
  });
});
