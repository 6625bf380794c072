import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, formatCount, formatNumber, formatPValue, formatPercent } from '../../src/monitoring/html-text';
import { renderReportHtml } from '../../src/monitoring/report-html';
import { sampleMonitoringReport } from '../fixtures/monitoring-report';

const ATTACK = '<script>alert(1)</script>';

describe('escapeHtml', () => {
  it('escapes markup and both quote kinds', () => {
    assert.equal(escapeHtml(ATTACK), '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(escapeHtml(`"a" & 'b'`), '&quot;a&quot; &amp; &#39;b&#39;');
    assert.equal(escapeHtml('&lt;'), '&amp;lt;'); // already-escaped text is text too
  });
});

describe('number formats', () => {
  it('keeps four significant digits without rounding away integer digits', () => {
    assert.equal(formatNumber(0.71234), '0.7123');
    assert.equal(formatNumber(143.26), '143.3');
    assert.equal(formatNumber(123456.7), '123457');
    assert.equal(formatNumber(0.5), '0.5');
    assert.equal(formatNumber(0), '0');
    assert.equal(formatNumber(-0.0123456), '-0.01235');
  });

  it('writes tiny and huge magnitudes and non-finite values readably', () => {
    assert.equal(formatNumber(0.000012346), '1.235e-5');
    assert.equal(formatNumber(3e12), '3e12');
    assert.equal(formatNumber(NaN), 'n/a');
    assert.equal(formatNumber(Infinity), '∞');
  });

  it('writes tiny p-values in exponent form', () => {
    assert.equal(formatPValue(9.161194e-40), '9.16e-40');
    assert.equal(formatPValue(0.0312), '0.0312');
    assert.equal(formatPValue(0), '0');
  });

  it('groups counts and writes shares as percentages', () => {
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(999), '999');
    assert.equal(formatPercent(0.5), '50%');
    assert.equal(formatPercent(0.12345), '12.3%');
  });
});

describe('renderReportHtml', () => {
  it('escapes every string from the report', () => {
    const report = sampleMonitoringReport();
    report.model = ATTACK;
    report.drift.columns[0]!.column = `"><img src=x onerror=alert(2)>`;
    report.alerts[0]!.message = ATTACK;
    report.decision.reasons = [ATTACK];
    const html = renderReportHtml(report);
    assert.ok(!html.includes(ATTACK), 'a script tag from the report appears unescaped');
    assert.ok(!html.includes('<img'), 'an attribute break-out from a column name appears unescaped');
    assert.ok(!/<script/i.test(html), 'the page has no script at all');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('links only http(s) Temporal UI addresses', () => {
    const report = sampleMonitoringReport();
    assert.ok(renderReportHtml(report).includes(`href="${escapeHtml(report.uiUrl!)}"`));
    report.uiUrl = 'javascript:alert(1)';
    assert.ok(!renderReportHtml(report).includes('href='));
    delete report.uiUrl;
    assert.ok(!renderReportHtml(report).includes('Temporal UI'));
  });

  it('says "no action" and "no labels" when nothing was found and nothing is labelled', () => {
    const report = sampleMonitoringReport();
    report.alerts = [];
    report.decision = { retrain: false, reasons: [] };
    delete report.performance;
    const html = renderReportHtml(report);
    assert.match(html, /No action: no drift, no degradation/);
    assert.match(html, /No labels have arrived for this window/);
    assert.ok(!html.includes('class="performance-chart"'));
  });
});
